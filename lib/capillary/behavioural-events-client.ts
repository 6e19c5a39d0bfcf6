/**
 * Posts one behavioural event to the org's integration URL (docs/engagement.md#posting): Basic auth, a timeout
 * per attempt, bounded retries with full-jitter backoff on 429 / 5xx / network errors / timeouts (as every
 * Capillary call, lib/capillary/http-client.ts), and no attempt that could not finish before the deadline.
 * A repeat after a lost answer can post the event twice: the event's unique key (external_event_id marked
 * isUniqueKeyField) keeps a duplicate from earning twice.
 */
import type { BehaviouralEventBody } from '../domain/behavioural-event-body';
import { isRecord } from '../is-record';
import { countCapillaryError, logger } from '../observability/telemetry';
import { BehaviouralEventsCredentialsError, BehaviouralEventsUnavailableError } from './behavioural-events-errors';
import type { RateLimiter } from './rate-limiter';

/** The part of `fetch` the client uses (tests and the benchmark pass their own). */
export type FetchLike = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<Pick<Response, 'status' | 'headers' | 'text'>>;

export interface BehaviouralEventsClientOptions {
  /** the integration URL Capillary generated (Behavioural Events → Webhook) */
  url: string;
  /** `user:password` of that integration */
  credentials: string;
  timeoutMs: number;
  maxAttempts: number;
  /** the ingest URL's own budget: each attempt takes one token first */
  limiter: RateLimiter;
  /** the LINE channel the events are for: on every log line and metric */
  channel: string;
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export type BehaviouralEventResult =
  | { outcome: 'posted'; status: number; requestId: string | undefined; attempts: number }
  /** a 4xx naming bad input: retrying cannot help, so the caller counts, logs and acknowledges it */
  | { outcome: 'refused'; status: number; message: string; requestId: string | undefined; attempts: number };

const OPERATION = 'behavioural-event';
const isRetriable = (status: number) => status === 408 || status === 429 || status >= 500;
const CREDENTIALS_REFUSED = new Set([401, 403]);
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 4000;
/** Not worth starting an attempt with less time than this. */
const MIN_ATTEMPT_MS = 250;
const MAX_MESSAGE_CHARS = 300;

/** What Capillary said: `errors[].message`, the ingest's `status.message`, a gateway's `message`, or the raw text. */
function messageOf(body: unknown, text: string): string {
  const errors = isRecord(body) && Array.isArray(body.errors) ? body.errors : [];
  const messages = errors.flatMap((error) =>
    isRecord(error) && typeof error.message === 'string' ? [error.message] : [],
  );
  const status = isRecord(body) && isRecord(body.status) ? body.status.message : undefined;
  const message = isRecord(body) ? body.message : undefined;
  const said = messages.length > 0 ? messages.join('; ') : [status, message, text].find((m) => typeof m === 'string');
  return (said as string).slice(0, MAX_MESSAGE_CHARS);
}

export class BehaviouralEventsClient {
  readonly #options: BehaviouralEventsClientOptions;
  readonly #authorization: string;
  readonly #fetch: FetchLike;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: BehaviouralEventsClientOptions) {
    this.#options = options;
    this.#authorization = `Basic ${Buffer.from(options.credentials, 'utf8').toString('base64')}`;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /**
   * Posted or refused; throws BehaviouralEventsUnavailableError once the attempts or the time (`deadlineAt`,
   * epoch ms) run out, BehaviouralEventsCredentialsError when the credentials are refused.
   */
  async post(body: BehaviouralEventBody, { deadlineAt }: { deadlineAt: number }): Promise<BehaviouralEventResult> {
    const eventName = String(body.event_name);
    const { maxAttempts } = this.#options;
    let lastProblem = 'no time left in this invocation';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await this.#sleep(this.#backoffMs(attempt - 1));
      const remainingMs = () => deadlineAt - Date.now();
      if (!(await this.#options.limiter.take(1, deadlineAt - MIN_ATTEMPT_MS)) || remainingMs() < MIN_ATTEMPT_MS)
        throw new BehaviouralEventsUnavailableError(eventName, attempt - 1, lastProblem);
      const answer = await this.#attempt(body, eventName, attempt, Math.min(this.#options.timeoutMs, remainingMs()));
      if (typeof answer === 'string') {
        lastProblem = answer;
        continue;
      }
      const { status, requestId } = answer;
      if (status >= 200 && status < 300) return { outcome: 'posted', status, requestId, attempts: attempt };
      if (CREDENTIALS_REFUSED.has(status)) throw new BehaviouralEventsCredentialsError(status, requestId);
      if (!isRetriable(status))
        return { outcome: 'refused', status, message: answer.message, requestId, attempts: attempt };
      lastProblem = `HTTP ${status}`;
    }
    throw new BehaviouralEventsUnavailableError(eventName, maxAttempts, lastProblem);
  }

  #backoffMs(retry: number): number {
    return Math.round(this.#random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1)));
  }

  /** Capillary's answer, or the problem (timeout, network error) that left none. Every attempt is logged. */
  async #attempt(
    body: BehaviouralEventBody,
    eventName: string,
    attempt: number,
    timeoutMs: number,
  ): Promise<{ status: number; requestId: string | undefined; message: string } | string> {
    const { channel, url } = this.#options;
    const started = Date.now();
    const report = (status: number | 'timeout' | 'network-error', requestId?: string) => {
      const call = { channel, operation: OPERATION, eventName, status, attempt, requestId };
      logger.info('Capillary call', { ...call, latencyMs: Date.now() - started });
      if (typeof status !== 'number' || status >= 300) countCapillaryError(channel, OPERATION, String(status));
    };
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: this.#authorization },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined; // a gateway's HTML or plain text: its text is the message
      }
      const bodyRequestId = isRecord(parsed) && typeof parsed.requestId === 'string' ? parsed.requestId : undefined;
      const requestId = bodyRequestId ?? response.headers.get('x-cap-requestid') ?? undefined;
      report(response.status, requestId);
      return { status: response.status, requestId, message: messageOf(parsed, text) };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      report(timedOut ? 'timeout' : 'network-error');
      return timedOut ? `timeout after ${timeoutMs} ms` : `network error (${(error as Error).message})`;
    }
  }
}
