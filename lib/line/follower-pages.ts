/**
 * The LINE calls of the backfill and the drift checks (docs/line.md#followers, #follower-counts, #destination):
 * one page of follower ids, the bot's own user id, and the daily follower counts. Bearer-token auth, a
 * timeout per call, bounded retries of 429/5xx/timeouts; `x-line-request-id` is kept for support.
 */
import { isRecord } from '../is-record';
import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from './errors';

/** LINE's maximum page size for followers/ids. */
export const FOLLOWER_PAGE_LIMIT = 1000;

export interface FollowerPage {
  userIds: string[];
  /** absent on the last page */
  next?: string;
}

export interface FollowerCounts {
  status: 'ready' | 'unready' | 'out_of_service';
  followers?: number;
  targetedReaches?: number;
  blocks?: number;
}

export interface LineFollowersClientOptions {
  channelAccessToken: string;
  baseUrl: string;
  timeoutMs: number;
  /** attempts per call for 429/5xx/timeouts; DEFAULT_LINE_API_ATTEMPTS unless a test wants fewer */
  maxAttempts?: number;
  /** ids per page; LINE's maximum unless a test wants small pages */
  pageSize?: number;
  sleep?: (ms: number) => Promise<void>;
}

const RETRIABLE = new Set([429, 500, 502, 503, 504]);
const DEFAULT_LINE_API_ATTEMPTS = 3;
const BACKOFF_MS = 500;
const JST_OFFSET_MS = 9 * 3600 * 1000;

/** yyyyMMdd of the day before `now` in UTC+9: insight counts are usually ready a day later. */
export function insightDate(now: number): string {
  return new Date(now + JST_OFFSET_MS - 24 * 3600 * 1000).toISOString().slice(0, 10).replaceAll('-', '');
}

export class LineFollowersClient {
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: LineFollowersClientOptions) {
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** One page; `start` = the previous page's `next`. Throws FollowerListUnavailableError (403) or FollowerCursorRejectedError (400). */
  async page(start: string | undefined): Promise<FollowerPage> {
    const query = new URLSearchParams({ limit: String(this.options.pageSize ?? FOLLOWER_PAGE_LIMIT) });
    if (start !== undefined) query.set('start', start);
    const { status, body, requestId } = await this.#get('followers/ids', `/v2/bot/followers/ids?${query}`);
    if (status === 403) throw new FollowerListUnavailableError(requestId);
    if (status === 400 && start !== undefined) throw new FollowerCursorRejectedError(requestId);
    if (status !== 200) throw new LineApiError('followers/ids', status, requestId, messageOf(body));
    const { userIds, next } = isRecord(body) ? body : {};
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string')) {
      throw new LineApiError('followers/ids', status, requestId, 'answer has no userIds array');
    }
    return { userIds: userIds as string[], ...(typeof next === 'string' && next !== '' ? { next } : {}) };
  }

  /** The bot's own user id: the `destination` of its webhooks and the first half of every user record key. */
  async botUserId(): Promise<string> {
    const { status, body, requestId } = await this.#get('bot/info', '/v2/bot/info');
    const userId = isRecord(body) ? body.userId : undefined;
    if (status !== 200 || typeof userId !== 'string') throw new LineApiError('bot/info', status, requestId, messageOf(body));
    return userId;
  }

  /** Counts for `date` (yyyyMMdd, UTC+9). LINE allows 60 of these calls an hour. */
  async followerCounts(date: string): Promise<FollowerCounts> {
    const { status, body, requestId } = await this.#get('insight/followers', `/v2/bot/insight/followers?date=${date}`);
    if (status !== 200 || !isRecord(body) || typeof body.status !== 'string') throw new LineApiError('insight/followers', status, requestId, messageOf(body));
    const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
    return {
      status: body.status as FollowerCounts['status'],
      ...(count(body.followers) === undefined ? {} : { followers: count(body.followers) }),
      ...(count(body.targetedReaches) === undefined ? {} : { targetedReaches: count(body.targetedReaches) }),
      ...(count(body.blocks) === undefined ? {} : { blocks: count(body.blocks) }),
    };
  }

  async #get(operation: string, path: string): Promise<{ status: number; body: unknown; requestId: string | undefined }> {
    const { baseUrl, channelAccessToken, timeoutMs, maxAttempts = DEFAULT_LINE_API_ATTEMPTS } = this.options;
    let problem: LineApiError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await this.#sleep(BACKOFF_MS * 2 ** (attempt - 2));
      try {
        const response = await fetch(`${baseUrl}${path}`, {
          headers: { authorization: `Bearer ${channelAccessToken}` },
          signal: AbortSignal.timeout(timeoutMs),
        });
        const requestId = response.headers.get('x-line-request-id') ?? undefined;
        const text = await response.text();
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          body = { message: 'the answer is not JSON' };
        }
        if (!RETRIABLE.has(response.status)) return { status: response.status, body, requestId };
        problem = new LineApiError(operation, response.status, requestId, messageOf(body));
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        problem = new LineApiError(operation, timedOut ? 'timeout' : 'network-error', undefined, (error as Error).message, { cause: error });
      }
    }
    throw problem as LineApiError;
  }
}

function messageOf(body: unknown): string {
  const message = isRecord(body) ? body.message : undefined;
  return typeof message === 'string' ? `(${message})` : '';
}
