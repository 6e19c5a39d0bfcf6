import { isRecord } from '../is-record';
import { LineApiError } from './errors';
import { LineApi, messageOf, type LineApiOptions, type LineApiRequest } from './line-api';

/**
 * LINE refused for good: 400 (the user blocked the account, a bad id), 403 (not allowed), 404 (the menu was
 * deleted). Counted and logged by the caller, never retried: a retry would meet the same answer.
 */
export interface RichMenuRefusal {
  status: 400 | 403 | 404;
  requestId: string | undefined;
  /** LINE's own message, e.g. "(Not found)"; names no user */
  detail: string;
}

export type RichMenuOutcome = { done: true } | { done: false; refusal: RichMenuRefusal };

/** LINE takes at most this many users per bulk link (`RichMenuBulkLinkRequest.userIds`). */
export const BULK_LINK_MAX_USERS = 500;
const REFUSALS = new Set([400, 403, 404]);

/**
 * The Messaging API calls the loyalty menus and the points answer need (docs/loyalty.md#line-calls), through the
 * shared LINE path (429/5xx retried with backoff). Linking, unlinking and the reads are repeatable: a repeat
 * leaves the same menu. The loading animation is not: a late one is worth nothing.
 */
export class RichMenuClient {
  readonly #api: LineApi;

  constructor(options: LineApiOptions) {
    this.#api = new LineApi(options);
  }

  /** `POST /v2/bot/user/{userId}/richmenu/{richMenuId}`: the menu this user sees from now on. */
  linkUser(userId: string, richMenuId: string): Promise<RichMenuOutcome> {
    const path = `/v2/bot/user/${encodeURIComponent(userId)}/richmenu/${encodeURIComponent(richMenuId)}`;
    return this.#send('link-rich-menu', path, { method: 'POST' });
  }

  /** `DELETE /v2/bot/user/{userId}/richmenu`: the user sees the account's default menu again. */
  unlinkUser(userId: string): Promise<RichMenuOutcome> {
    return this.#send('unlink-rich-menu', `/v2/bot/user/${encodeURIComponent(userId)}/richmenu`, { method: 'DELETE' });
  }

  /**
   * `POST /v2/bot/richmenu/bulk/link`, one call per 500 users. LINE accepts each call (202) and applies it later,
   * with no per-user result: users who blocked the account are skipped there.
   */
  async bulkLink(
    richMenuId: string,
    userIds: readonly string[],
  ): Promise<{ calls: number; refusals: RichMenuRefusal[] }> {
    const refusals: RichMenuRefusal[] = [];
    let calls = 0;
    for (let start = 0; start < userIds.length; start += BULK_LINK_MAX_USERS) {
      calls += 1;
      const body = { richMenuId, userIds: userIds.slice(start, start + BULK_LINK_MAX_USERS) };
      const outcome = await this.#send('bulk-link-rich-menu', '/v2/bot/richmenu/bulk/link', { method: 'POST', body });
      if (!outcome.done) refusals.push(outcome.refusal);
    }
    return { calls, refusals };
  }

  /** `GET /v2/bot/richmenu/{richMenuId}`: false when LINE has no such menu (never created, or deleted). */
  async menuExists(richMenuId: string): Promise<boolean> {
    const outcome = await this.#send('get-rich-menu', `/v2/bot/richmenu/${encodeURIComponent(richMenuId)}`, {});
    return outcome.done;
  }

  /** `GET /v2/bot/richmenu/alias/{aliasId}` → the menu id, undefined when the alias does not exist. */
  async resolveAlias(aliasId: string): Promise<string | undefined> {
    const operation = 'get-rich-menu-alias';
    const answer = await this.#api.call(operation, `/v2/bot/richmenu/alias/${encodeURIComponent(aliasId)}`);
    if (REFUSALS.has(answer.status)) return undefined;
    const richMenuId = isRecord(answer.body) ? answer.body.richMenuId : undefined;
    if (answer.status !== 200 || typeof richMenuId !== 'string')
      throw new LineApiError(operation, answer.status, answer.requestId, messageOf(answer.body) || '(no richMenuId)');
    return richMenuId;
  }

  /**
   * `POST /v2/bot/chat/loading/start` while the bridge reads Capillary; the next message ends it. `seconds` is
   * rounded up to LINE's steps of 5, from 5 to 60.
   */
  startLoading(userId: string, seconds: number): Promise<RichMenuOutcome> {
    const loadingSeconds = Math.min(60, Math.max(5, Math.ceil(seconds / 5) * 5));
    const body = { chatId: userId, loadingSeconds };
    return this.#send('start-loading-animation', '/v2/bot/chat/loading/start', {
      method: 'POST',
      body,
      repeatable: false,
    });
  }

  async #send(operation: string, path: string, request: LineApiRequest): Promise<RichMenuOutcome> {
    const { status, body, requestId } = await this.#api.call(operation, path, { repeatable: true, ...request });
    if (status >= 200 && status <= 299) return { done: true };
    if (REFUSALS.has(status))
      return {
        done: false,
        refusal: { status: status as RichMenuRefusal['status'], requestId, detail: messageOf(body) },
      };
    throw new LineApiError(operation, status, requestId, messageOf(body));
  }
}
