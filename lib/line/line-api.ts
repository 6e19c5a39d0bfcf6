import { isRecord } from '../is-record';
import { sleep, type Sleep } from '../retry/sleep';
import { exponentialDelay, withRetries } from '../retry/with-retries';
import { LineApiError } from './errors';

export interface LineApiOptions {
  channelAccessToken: string;
  /** a bare origin, e.g. https://api.line.me */
  baseUrl: string;
  timeoutMs: number;
  /** attempts per repeatable call for 429/5xx/timeouts; DEFAULT_LINE_API_ATTEMPTS unless a test wants fewer */
  maxAttempts?: number;
  sleep?: Sleep;
}

export interface LineApiRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
  /** repeat 429/5xx/timeouts: only for calls a repeat changes nothing for (the default for GET reads) */
  repeatable?: boolean;
}

/** An answer LINE gave (any status but a retried one); `body` is undefined when it was not JSON. */
export interface LineApiAnswer {
  status: number;
  body: unknown;
  requestId: string | undefined;
}

const RETRIABLE = new Set([429, 500, 502, 503, 504]);
const DEFAULT_LINE_API_ATTEMPTS = 3;
const BACKOFF_MS = 500;

/**
 * The one HTTP path to the Messaging API for the bridge's own calls (backfill, drift checks, linking):
 * Bearer token, a timeout per attempt, JSON both ways, `x-line-request-id` kept for support, bounded
 * retries with backoff for repeatable calls. Plain fetch: the SDK's client has no timeout option.
 */
export class LineApi {
  readonly #sleep: Sleep;

  constructor(private readonly options: LineApiOptions) {
    this.#sleep = options.sleep ?? sleep;
  }

  /** LINE's answer; throws LineApiError for a timeout, a network error, or a retriable status after the last attempt. */
  async call(
    operation: string,
    path: string,
    { method = 'GET', body, headers = {}, repeatable = method === 'GET' }: LineApiRequest = {},
  ): Promise<LineApiAnswer> {
    const { baseUrl, channelAccessToken, timeoutMs, maxAttempts = DEFAULT_LINE_API_ATTEMPTS } = this.options;
    const outcome = await withRetries<LineApiAnswer, LineApiError>(
      { maxAttempts: repeatable ? maxAttempts : 1, delayMs: exponentialDelay(BACKOFF_MS), sleep: this.#sleep },
      async () => {
        try {
          const response = await fetch(`${baseUrl}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${channelAccessToken}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...headers,
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
          });
          const answer = {
            status: response.status,
            body: parseJson(await response.text()),
            requestId: response.headers.get('x-line-request-id') ?? undefined,
          };
          if (!RETRIABLE.has(answer.status)) return { done: answer };
          return { failed: new LineApiError(operation, answer.status, answer.requestId, messageOf(answer.body)) };
        } catch (error) {
          const timedOut = (error as Error).name === 'TimeoutError';
          const status = timedOut ? 'timeout' : 'network-error';
          return { failed: new LineApiError(operation, status, undefined, (error as Error).message, { cause: error }) };
        }
      },
    );
    if ('done' in outcome) return outcome.done;
    throw outcome.failed;
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** LINE's `message` of an error answer, for the error's text. */
export function messageOf(body: unknown): string {
  const message = isRecord(body) ? body.message : undefined;
  return typeof message === 'string' ? `(${message})` : body === undefined ? '(the answer is not JSON)' : '';
}
