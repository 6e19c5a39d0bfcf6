import { createHash } from 'node:crypto';

import type { CapillaryAuthConfig } from '../config/capillary-orgs';
import { DEFAULT_CHANNEL_ID } from '../config/channels';
import { isRecord } from '../is-record';
import { countCapillaryError, logger, metrics, MetricUnit } from '../observability/telemetry';
import { CapillaryApiError, CapillaryUnavailableError } from './errors';
import type { RateLimiter } from './rate-limiter';

/** Capillary's envelope: success or failure is in the body, not only in the HTTP status. */
export interface CapillaryMessage {
  status?: boolean;
  code: number;
  message?: string;
}

export interface CapillaryEnvelope {
  errors?: CapillaryMessage[] | null;
  warnings?: CapillaryMessage[] | null;
  [field: string]: unknown;
}

export interface CapillaryResponse {
  status: number;
  body: CapillaryEnvelope;
  requestId: string | undefined;
  attempts: number;
}

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
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface CallOptions {
  /** The invocation's end for this call: no attempt starts that could not finish before it (epoch ms). */
  deadlineAt: number;
  /** Tokens one attempt takes from the rate limit (default 1; a bulk call 1 or N per CAPILLARY_BULK_COUNTS_AS). */
  cost?: number;
}

const NO_DEADLINE: CallOptions = { deadlineAt: Number.POSITIVE_INFINITY };

/** Throttling and "try again later" answers (docs/capillary.md#retries): retried with backoff. */
const RETRIABLE_STATUSES = new Set([429, 461, 502, 503, 504, 521]);
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 4000;
/** Not worth starting an attempt with less time than this. */
const MIN_ATTEMPT_MS = 250;

export const errorCodes = (body: CapillaryEnvelope): number[] => (body.errors ?? []).map((e) => Number(e.code));

/** A failed answer as an error: status, codes, X-Cap-Requestid and the messages Capillary gave. */
export function apiErrorOf(operation: string, response: CapillaryResponse): CapillaryApiError {
  const messages = (response.body.errors ?? [])
    .map((e) => e.message)
    .filter(Boolean)
    .join('; ');
  return new CapillaryApiError(operation, response.status, errorCodes(response.body), response.requestId, messages);
}
export const warningCodes = (body: CapillaryEnvelope): number[] => (body.warnings ?? []).map((w) => Number(w.code));

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What every channel on one Capillary org shares: the org's rate budget and its OAuth token. */
class OrgSession {
  token: { value: string; refreshAt: number } | undefined;
  tokenRequest: Promise<string> | undefined;
  constructor(readonly limiter: RateLimiter) {}
}

/**
 * One Capillary HTTP call = auth header, timeout, bounded retries with exponential backoff and full
 * jitter on transient answers, and the X-Cap-Requestid of every attempt reported for support tickets.
 */
export class CapillaryHttpClient {
  readonly #options: CapillaryHttpOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #session: OrgSession;
  readonly #channel: string;

  constructor(options: CapillaryHttpOptions, session?: OrgSession) {
    this.#options = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#session = session ?? new OrgSession(options.limiter);
    this.#channel = options.channel ?? DEFAULT_CHANNEL_ID;
  }

  /** The same org (one rate budget, one token) calling for another channel: its logs and metrics name that channel. */
  forChannel(channel: string): CapillaryHttpClient {
    return new CapillaryHttpClient({ ...this.#options, channel }, this.#session);
  }

  async request(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    call: CallOptions = NO_DEADLINE,
  ): Promise<CapillaryResponse> {
    const { maxAttempts } = this.#options;
    let lastProblem = '';
    let tokenRefreshed = false;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const outcome = await this.#attempt(operation, method, path, body, attempt, call);
      if ('outOfTime' in outcome)
        throw new CapillaryUnavailableError(operation, attempt - 1, lastProblem || 'no time left in this invocation');
      if ('response' in outcome) {
        const { response } = outcome;
        // An OAuth token can be revoked or expire early: regenerate it once before giving up.
        if (response.status === 401 && this.#options.auth.scheme === 'oauth' && !tokenRefreshed) {
          tokenRefreshed = true;
          this.#session.token = undefined;
          continue;
        }
        if (!RETRIABLE_STATUSES.has(response.status)) return { ...response, attempts: attempt };
        lastProblem = `HTTP ${response.status}`;
      } else {
        lastProblem = outcome.problem;
      }
      if (attempt < maxAttempts) await this.#sleep(this.#backoffMs(attempt));
    }
    throw new CapillaryUnavailableError(operation, maxAttempts, lastProblem);
  }

  #backoffMs(attempt: number): number {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.round(this.#random() * ceiling);
  }

  async #attempt(
    operation: string,
    method: string,
    path: string,
    body: unknown,
    attempt: number,
    { deadlineAt, cost = 1 }: CallOptions,
  ): Promise<{ response: Omit<CapillaryResponse, 'attempts'> } | { problem: string } | { outOfTime: true }> {
    let authHeaders: Record<string, string>;
    try {
      authHeaders = await this.#authHeaders();
    } catch (error) {
      // A token endpoint that is throttled or down is as transient as the call it was for.
      if (error instanceof CapillaryUnavailableError) return { problem: `token: ${error.lastProblem}` };
      throw error;
    }
    const remainingMs = () => deadlineAt - Date.now();
    if (!(await this.#session.limiter.take(cost, deadlineAt - MIN_ATTEMPT_MS)) || remainingMs() < MIN_ATTEMPT_MS)
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
      const text = await response.text();
      const json: unknown = text ? JSON.parse(text) : {};
      // A JSON answer that is not an object (null, a number) carries no envelope.
      parsed = isRecord(json) ? (json as CapillaryEnvelope) : {};
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

  async #authHeaders(): Promise<Record<string, string>> {
    const { auth } = this.#options;
    if (auth.scheme === 'basic') {
      const digest = createHash('md5').update(auth.secret).digest('hex');
      return { authorization: `Basic ${Buffer.from(`${auth.id}:${digest}`).toString('base64')}` };
    }
    return { [auth.oauthHeaderName]: await this.#oauthToken() };
  }

  async #oauthToken(): Promise<string> {
    const session = this.#session;
    if (session.token && Date.now() < session.token.refreshAt) return session.token.value;
    // Concurrent records (of every channel on the org) share one token request.
    session.tokenRequest ??= this.#generateToken().finally(() => {
      session.tokenRequest = undefined;
    });
    return session.tokenRequest;
  }

  async #generateToken(): Promise<string> {
    const { auth, baseUrl, timeoutMs } = this.#options;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/v3/oauth/token/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ key: auth.id, secret: auth.secret }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new CapillaryUnavailableError(
        'token/generate',
        1,
        (error as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (error as Error).message,
      );
    }
    if (RETRIABLE_STATUSES.has(response.status))
      throw new CapillaryUnavailableError('token/generate', 1, `HTTP ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as {
      data?: { accessToken?: string; ttlSeconds?: number };
    } & CapillaryEnvelope;
    const token = body.data?.accessToken;
    if (!response.ok || !token) {
      throw new CapillaryApiError(
        'token/generate',
        response.status,
        errorCodes(body),
        response.headers.get('x-cap-requestid') ?? undefined,
        '(check CAPILLARY_CLIENT_KEY / CAPILLARY_CLIENT_SECRET and the API client access group)',
      );
    }
    const ttlMs = Math.max(1, body.data?.ttlSeconds ?? 300) * 1000;
    // Refresh when 80% of the lifetime has passed, so no request goes out with a token about to expire.
    this.#session.token = { value: token, refreshAt: Date.now() + ttlMs * 0.8 };
    return token;
  }
}
