/**
 * What the LINE stand-in holds per channel (by access token), for the checks an operator runs against LINE
 * (npm run doctor): the bot's user id (`GET /v2/bot/info`), the webhook endpoint and whether it is active
 * (`GET`/`PUT /v2/bot/channel/webhook/endpoint`), and the webhook test (`POST /v2/bot/channel/webhook/test`), which
 * sends the signed empty-events request LINE's Verify button sends and reports what the endpoint answered.
 */
import { isRecord } from '../../lib/is-record';
import { signLineBody } from '../sign-line-body';
import { InvalidAdminRequestError, type Clock, type RouteHandler, type StandInReply } from './standin-kit';

export interface LineChannelWebhook {
  channelAccessToken: string;
  /** the bot's user id (`destination`); the stand-in's default bot when absent */
  botUserId?: string;
  /** the secret the webhook test signs with */
  channelSecret?: string;
  webhookEndpoint?: string;
  webhookActive?: boolean;
}

const FIELDS = ['channelAccessToken', 'botUserId', 'channelSecret', 'webhookEndpoint', 'webhookActive'];
const TEST_TIMEOUT_MS = 5000;

export class LineChannelWebhooks {
  #byToken = new Map<string, LineChannelWebhook>();
  /** what a reset goes back to: the channels as the stand-in's owner set them up */
  readonly #baseline = new Map<string, LineChannelWebhook>();

  constructor(
    initial: readonly LineChannelWebhook[],
    private readonly defaultBotUserId: string,
    private readonly clock: Clock,
  ) {
    for (const channel of initial) this.setUp(channel);
  }

  /** A channel as its console was set up; a reset comes back to this. */
  setUp(channel: LineChannelWebhook): void {
    this.#baseline.set(channel.channelAccessToken, { ...channel });
    this.#byToken.set(channel.channelAccessToken, { ...channel });
  }

  reset(): void {
    this.#byToken = new Map([...this.#baseline].map(([token, channel]) => [token, { ...channel }]));
  }

  /** Patches a channel's settings (what a later change in the console would do), until the next reset. */
  configure(patch: LineChannelWebhook): LineChannelWebhook {
    const merged = { ...this.#byToken.get(patch.channelAccessToken), ...patch };
    this.#byToken.set(patch.channelAccessToken, merged);
    return merged;
  }

  /** `POST /__admin/channels` `{ channelAccessToken, botUserId?, channelSecret?, webhookEndpoint?, webhookActive? }` */
  readonly adminConfigure = (body: unknown): LineChannelWebhook => {
    if (!isRecord(body) || typeof body.channelAccessToken !== 'string')
      throw new InvalidAdminRequestError('body needs a channelAccessToken string');
    const unknown = Object.keys(body).filter((name) => !FIELDS.includes(name));
    if (unknown.length > 0) throw new InvalidAdminRequestError(`unknown field(s) ${unknown.join(', ')}`);
    if (body.webhookActive !== undefined && typeof body.webhookActive !== 'boolean')
      throw new InvalidAdminRequestError('webhookActive must be true or false');
    return this.configure(body as unknown as LineChannelWebhook);
  };

  botUserIdOf(authorization: string | undefined): string {
    return this.#of(authorization).botUserId ?? this.defaultBotUserId;
  }

  readonly getEndpoint: RouteHandler = ({ headers }) => {
    const channel = this.#of(headers.authorization);
    return { status: 200, body: { endpoint: channel.webhookEndpoint ?? '', active: channel.webhookActive ?? false } };
  };

  readonly putEndpoint: RouteHandler = ({ headers, body }) => {
    const endpoint = isRecord(body) ? body.endpoint : undefined;
    if (typeof endpoint !== 'string' || !/^https?:\/\/\S+$/.test(endpoint) || endpoint.length > 500)
      return { status: 400, body: { message: 'The request body has 1 error(s)', details: [{ property: 'endpoint' }] } };
    this.configure({ channelAccessToken: tokenOf(headers.authorization), webhookEndpoint: endpoint });
    return { status: 200, body: {} };
  };

  readonly testEndpoint: RouteHandler = async ({ headers, body }) => {
    const channel = this.#of(headers.authorization);
    const given = isRecord(body) && typeof body.endpoint === 'string' ? body.endpoint : undefined;
    const endpoint = given ?? channel.webhookEndpoint;
    if (!endpoint) return { status: 400, body: { message: 'Webhook URL is not set' } };
    return { status: 200, body: await this.#send(endpoint, channel) };
  };

  async #send(endpoint: string, channel: LineChannelWebhook): Promise<StandInReply['body']> {
    const payload = JSON.stringify({
      destination: this.botUserIdOf(`Bearer ${channel.channelAccessToken}`),
      events: [],
    });
    const timestamp = new Date(this.clock()).toISOString();
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'x-line-signature': signLineBody(payload, channel.channelSecret ?? ''),
        },
        body: payload,
        signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
      });
      const detail = (await response.text()).slice(0, 200);
      return response.ok
        ? { success: true, timestamp, statusCode: response.status, reason: 'OK', detail: `${response.status}` }
        : { success: false, timestamp, statusCode: response.status, reason: 'ERROR_STATUS_CODE', detail };
    } catch (error) {
      return {
        success: false,
        timestamp,
        statusCode: 0,
        reason: 'COULD_NOT_CONNECT',
        detail: (error as Error).message,
      };
    }
  }

  #of(authorization: string | undefined): LineChannelWebhook {
    const channelAccessToken = tokenOf(authorization);
    return this.#byToken.get(channelAccessToken) ?? { channelAccessToken };
  }
}

const tokenOf = (authorization: string | undefined): string => (authorization ?? '').replace(/^Bearer /, '');
