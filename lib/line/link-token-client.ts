import { isRecord } from '../is-record';
import { LineApiError } from './errors';
import { LineApi, messageOf, type LineApiOptions, type LineApiRequest } from './line-api';

/** A message object of the Messaging API; the bridge sends text and one button template. */
export type LineMessage = Record<string, unknown>;

/**
 * The Messaging API calls linking needs (docs/line.md#account-link): issue a link token, answer the user
 * by reply or push (the bot's own user id comes from LineFollowersClient.botUserId). None is repeated
 * here: the event's own retry repeats it, and a reply token works once.
 */
export class LineChatClient {
  readonly #api: LineApi;

  constructor(options: LineApiOptions) {
    this.#api = new LineApi(options);
  }

  /** `POST /v2/bot/user/{userId}/linkToken` → the one-time token (valid 10 minutes). */
  async issueLinkToken(userId: string): Promise<string> {
    const body = await this.#post('issue-link-token', `/v2/bot/user/${encodeURIComponent(userId)}/linkToken`);
    if (typeof body.linkToken !== 'string' || body.linkToken === '')
      throw new LineApiError('issue-link-token', 200, undefined, '(no linkToken in the answer)');
    return body.linkToken;
  }

  /** false when LINE refuses the reply token (used or expired): the caller pushes instead. */
  async reply(replyToken: string, messages: LineMessage[]): Promise<boolean> {
    try {
      await this.#post('reply', '/v2/bot/message/reply', { body: { replyToken, messages } });
      return true;
    } catch (error) {
      if (error instanceof LineApiError && error.status === 400) return false;
      throw error;
    }
  }

  /** The retry key makes a repeated push (the event's own retry) a no-op at LINE (docs/line.md#account-link). */
  async push(userId: string, messages: LineMessage[], retryKey: string): Promise<void> {
    await this.#post('push', '/v2/bot/message/push', {
      body: { to: userId, messages },
      headers: { 'X-Line-Retry-Key': retryKey },
    });
  }

  async #post(
    operation: string,
    path: string,
    request: Omit<LineApiRequest, 'method' | 'repeatable'> = {},
  ): Promise<Record<string, unknown>> {
    const { status, body, requestId } = await this.#api.call(operation, path, {
      ...request,
      method: 'POST',
      repeatable: false,
    });
    // A 409 on a push with a retry key means "already accepted": the message went out once.
    const alreadyAccepted = status === 409 && request.headers?.['X-Line-Retry-Key'] !== undefined;
    if ((status < 200 || status > 299) && !alreadyAccepted)
      throw new LineApiError(operation, status, requestId, messageOf(body));
    return isRecord(body) ? body : {};
  }
}
