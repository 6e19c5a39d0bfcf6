import { LineApiError } from './errors';

export interface LineChatClientOptions {
  channelAccessToken: string;
  /** a bare origin, e.g. https://api.line.me */
  baseUrl: string;
  timeoutMs: number;
}

/** A message object of the Messaging API; the bridge sends text and one button template. */
export type LineMessage = Record<string, unknown>;

/**
 * The Messaging API calls linking needs (docs/line.md#account-link): issue a link token, answer the user
 * by reply or push (the bot's own user id comes from LineFollowersClient.botUserId). Plain fetch: the SDK client has no timeout option.
 */
export class LineChatClient {
  constructor(private readonly options: LineChatClientOptions) {}

  /** `POST /v2/bot/user/{userId}/linkToken` → the one-time token (valid 10 minutes). */
  async issueLinkToken(userId: string): Promise<string> {
    const body = await this.#call('issue-link-token', 'POST', `/v2/bot/user/${encodeURIComponent(userId)}/linkToken`);
    if (typeof body.linkToken !== 'string' || body.linkToken === '') throw new LineApiError('issue-link-token', 200, undefined, '(no linkToken in the answer)');
    return body.linkToken;
  }

  /** false when LINE refuses the reply token (used or expired): the caller pushes instead. */
  async reply(replyToken: string, messages: LineMessage[]): Promise<boolean> {
    try {
      await this.#call('reply', 'POST', '/v2/bot/message/reply', { replyToken, messages });
      return true;
    } catch (error) {
      if (error instanceof LineApiError && error.status === 400) return false;
      throw error;
    }
  }

  /** The retry key makes a repeated push (the event's own retry) a no-op at LINE (docs/line.md#account-link). */
  async push(userId: string, messages: LineMessage[], retryKey: string): Promise<void> {
    await this.#call('push', 'POST', '/v2/bot/message/push', { to: userId, messages }, { 'X-Line-Retry-Key': retryKey });
  }

  async #call(operation: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.options.channelAccessToken}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new LineApiError(operation, (error as Error).name === 'TimeoutError' ? 'timeout' : 'network-error', undefined, '', { cause: error });
    }
    const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    // A 409 on a push with a retry key means "already accepted": the message went out once.
    if (!response.ok && !(response.status === 409 && headers['X-Line-Retry-Key'] !== undefined)) {
      throw new LineApiError(operation, response.status, response.headers.get('x-line-request-id') ?? undefined, typeof parsed.message === 'string' ? `(${parsed.message})` : '');
    }
    return parsed;
  }
}
