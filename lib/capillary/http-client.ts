import type { CapillaryAuthConfig } from '../config/capillary-orgs';
import { DEFAULT_CHANNEL_ID } from '../config/channels';
import { countCapillaryError, logger, metrics, MetricUnit } from '../observability/telemetry';
import { sleep, type Sleep } from '../retry/sleep';
import { exponentialDelay, fullJitter, withRetries } from '../retry/with-retries';
import { CapillaryAuth } from './auth';
import { envelopeOf, errorCodes, RETRIABLE_STATUSES, type CapillaryEnvelope, type CapillaryResponse } from './envelope';
import { CapillaryUnavailableError } from './errors';
import type { RateLimiter } from './rate-limiter';

export interface CapillaryCallRecord {
  operation: string;
  status: number | 'network-error' | 'timeout';
  latencyMs: number;
  requestId: string | undefined;
  errorCodes: number[];
  attempt: number;
}

export interface CapillaryHttpOptions {
  baseUrl: string;
  auth: CapillaryAuthConfig;
  timeoutMs: number;
  maxAttempts: number;
  /** The org's budget, shared by every instance: each attempt takes its cost in tokens first. */
  limiter: RateLimiter;
  /** The LINE channel the calls are for: on every log line and metric (default: `default`). */
  channel?: string;
  /** Observer for every attempt, after it is logged and counted (tests, benchmark). */
  onCall?: (call: CapillaryCallRecord) => void;
  sleep?: Sleep;
  random?: () => number;
}

export interface CallOptions {
  /** The invocation's end for this call: no attempt starts that could not finish before it (epoch ms). */
  deadlineAt: number;
  /** Tokens one attempt takes from the rate limit (default 1; a bulk call 1 or N per CAPILLARY_BULK_COUNTS_AS). */
  cost?: number;
  /** A write that must not be repeated blindly (a merge request): one attempt; a transient answer throws. */
  singleAttempt?: boolean;
}

type AttemptOutcome = { response: Omit<CapillaryResponse, 'attempts'> } | { problem: string } | { outOfTime: true };

const NO_DEADLINE: CallOptions = { deadlineAt: Number.POSITIVE_INFINITY };

const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 4000;
/** Not worth starting an attempt with less time than this. */
const MIN_ATTEMPT_MS = 250;

/**
 * One Capillary HTTP call = auth header, timeout, bounded retries with exponential backoff and full
 * jitter on transient answers, and the X-Cap-Requestid of every attempt reported for support tickets.
 */
export class CapillaryHttpClient {
  readonly #options: CapillaryHttpOptions;
  readonly #sleep: Sleep;
  readonly #backoffMs: (attempt: number) => number;
  readonly #auth: CapillaryAuth;
  readonly #channel: string;

  /** `auth` is the org's, shared by every channel on it (see forChannel). */
  constructor(options: CapillaryHttpOptions, auth?: CapillaryAuth) {
    this.#options = options;
    this.#sleep = options.sleep ?? sleep;
    this.#backoffMs = fullJitter(exponentialDelay(BACKOFF_BASE_MS, BACKOFF_CAP_MS), options.random ?? Math.random);
    this.#auth = auth ?? new CapillaryAuth(options);
    this.#channel = options.channel ?? DEFAULT_CHANNEL_ID;
  }

  /** The same org (one rate budget, one token) calling for another channel: its logs and metrics name that channel. */
  forChannel(channel: string): CapillaryHttpClient {
    return new CapillaryHttpClient({ ...this.#options, channel }, this.#auth);
  }

  async request(
    operation: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    call: CallOptions = NO_DEADLINE,
  ): Promise<CapillaryResponse> {
    const maxAttempts = call.singleAttempt ? 1 : this.#options.maxAttempts;
    let lastProblem = '';
    let tokenRefreshed = false;
    const outcome = await withRetries<CapillaryResponse, string>(
      { maxAttempts, delayMs: this.#backoffMs, sleep: this.#sleep },
      async (attempt) => {
        const result = await this.#attempt(operation, method, path, body, attempt, call);
        if ('outOfTime' in result)
          throw new CapillaryUnavailableError(operation, attempt - 1, lastProblem || 'no time left in this invocation');
        if ('problem' in result) {
          lastProblem = result.problem;
          return { failed: lastProblem };
        }
        const { response } = result;
        // An OAuth token can be revoked or expire early: regenerate it once before giving up.
        if (response.status === 401 && this.#auth.usesOAuth && !tokenRefreshed) {
          tokenRefreshed = true;
          this.#auth.forgetToken();
          return { failed: lastProblem, withoutPause: true };
        }
        if (!RETRIABLE_STATUSES.has(response.status)) return { done: { ...response, attempts: attempt } };
        lastProblem = `HTTP ${response.status}`;
        return { failed: lastProblem };
      },
    );
    if ('done' in outcome) return outcome.done;
    throw new CapillaryUnavailableError(operation, maxAttempts, outcome.failed);
  }

  async #attempt(
    operation: string,
    method: string,
    path: string,
    body: unknown,
    attempt: number,
    { deadlineAt, cost = 1 }: CallOptions,
  ): Promise<AttemptOutcome> {
    let authHeaders: Record<string, string>;
    try {
      authHeaders = await this.#auth.headers();
    } catch (error) {
      // A token endpoint that is throttled or down is as transient as the call it was for.
      if (error instanceof CapillaryUnavailableError) return { problem: `token: ${error.lastProblem}` };
      throw error;
    }
    const remainingMs = () => deadlineAt - Date.now();
    if (!(await this.#options.limiter.take(cost, deadlineAt - MIN_ATTEMPT_MS)) || remainingMs() < MIN_ATTEMPT_MS)
      return { outOfTime: true };
    const timeoutMs = Math.min(this.#options.timeoutMs, remainingMs());
    const started = Date.now();
    const report = (status: CapillaryCallRecord['status'], requestId: string | undefined, codes: number[]) =>
      this.#report({ operation, status, latencyMs: Date.now() - started, requestId, errorCodes: codes, attempt });
    let response: Response;
    try {
      response = await fetch(`${this.#options.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      report(timedOut ? 'timeout' : 'network-error', undefined, []);
      return { problem: timedOut ? `timeout after ${timeoutMs} ms` : `network error (${(error as Error).message})` };
    }
    const requestId = response.headers.get('x-cap-requestid') ?? undefined;
    let parsed: CapillaryEnvelope;
    try {
      parsed = envelopeOf(await response.text());
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      report(timedOut ? 'timeout' : response.status, requestId, []);
      if (timedOut) return { problem: `timeout after ${timeoutMs} ms` };
      parsed = {};
    }
    report(response.status, requestId, errorCodes(parsed));
    return { response: { status: response.status, body: parsed, requestId } };
  }

  /** Every attempt is logged (with X-Cap-Requestid for support tickets) and counted by operation and code. */
  #report(call: CapillaryCallRecord): void {
    metrics.addMetric('CapillaryLatency', MetricUnit.Milliseconds, call.latencyMs);
    for (const code of call.errorCodes.length > 0 ? call.errorCodes : call.status === 200 ? [] : [call.status]) {
      countCapillaryError(this.#channel, call.operation, String(code));
    }
    logger.info('Capillary call', { channel: this.#channel, ...call });
    this.#options.onCall?.(call);
  }
}
