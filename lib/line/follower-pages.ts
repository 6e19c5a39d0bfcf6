/**
 * The LINE calls of the backfill and the drift checks (docs/line.md#followers, #follower-counts, #destination):
 * one page of follower ids, the bot's own user id, and the daily follower counts (reads: retried as LineApi does).
 */
import { isRecord } from '../is-record';
import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from './errors';
import { LineApi, messageOf, type LineApiOptions } from './line-api';

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

export interface LineFollowersClientOptions extends LineApiOptions {
  /** ids per page; LINE's maximum unless a test wants small pages */
  pageSize?: number;
}

const JST_OFFSET_MS = 9 * 3600 * 1000;

/** yyyyMMdd of the day before `now` in UTC+9: insight counts are usually ready a day later. */
export function insightDate(now: number): string {
  return new Date(now + JST_OFFSET_MS - 24 * 3600 * 1000).toISOString().slice(0, 10).replaceAll('-', '');
}

export class LineFollowersClient {
  readonly #api: LineApi;

  constructor(private readonly options: LineFollowersClientOptions) {
    this.#api = new LineApi(options);
  }

  /** One page; `start` = the previous page's `next`. Throws FollowerListUnavailableError (403) or FollowerCursorRejectedError (400). */
  async page(start: string | undefined): Promise<FollowerPage> {
    const query = new URLSearchParams({ limit: String(this.options.pageSize ?? FOLLOWER_PAGE_LIMIT) });
    if (start !== undefined) query.set('start', start);
    const { status, body, requestId } = await this.#api.call('followers/ids', `/v2/bot/followers/ids?${query}`);
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
    const { status, body, requestId } = await this.#api.call('bot/info', '/v2/bot/info');
    const userId = isRecord(body) ? body.userId : undefined;
    if (status !== 200 || typeof userId !== 'string')
      throw new LineApiError('bot/info', status, requestId, messageOf(body));
    return userId;
  }

  /** Counts for `date` (yyyyMMdd, UTC+9). LINE allows 60 of these calls an hour. */
  async followerCounts(date: string): Promise<FollowerCounts> {
    const { status, body, requestId } = await this.#api.call(
      'insight/followers',
      `/v2/bot/insight/followers?date=${date}`,
    );
    if (status !== 200 || !isRecord(body) || typeof body.status !== 'string')
      throw new LineApiError('insight/followers', status, requestId, messageOf(body));
    const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
    return {
      status: body.status as FollowerCounts['status'],
      ...(count(body.followers) === undefined ? {} : { followers: count(body.followers) }),
      ...(count(body.targetedReaches) === undefined ? {} : { targetedReaches: count(body.targetedReaches) }),
      ...(count(body.blocks) === undefined ? {} : { blocks: count(body.blocks) }),
    };
  }
}
