/**
 * The webhook handler's side of the rigs: its configuration for one or more channels, and API Gateway
 * events signed as LINE signs its POSTs, for tests, the benchmark and the chaos and fuzz runs.
 */
import { ById, DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../../lib/config/channels';
import { DEFAULTS } from '../../lib/config/defaults';
import type { EngagementRouting, WebhookChannel, WebhookConfig } from '../../lib/config/webhook-config';
import type { EngagementRule } from '../../lib/domain/engagement-rules';
import { toApiGatewayV2Event } from '../lambda-events';
import { LOCAL_CHANNEL_SECRET, webhookPathFor } from '../sample-events';
import { signLineBody } from '../sign-line-body';

export interface SignedRequestOptions {
  secret?: string;
  /** the path's channel segment; none = `POST /line/webhook` */
  channel?: string;
  signature?: string | null;
  contentType?: string;
  headerName?: string;
}

/** An API Gateway v2 event as LINE's POST would produce it, signed over the exact bytes. */
export function signedWebhookRequest(body: string | Buffer, options: SignedRequestOptions = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json; charset=utf-8' };
  const signature =
    options.signature === undefined ? signLineBody(bytes, options.secret ?? LOCAL_CHANNEL_SECRET) : options.signature;
  if (signature !== null) headers[options.headerName ?? 'x-line-signature'] = signature;
  const event = toApiGatewayV2Event({ method: 'POST', path: webhookPathFor(options.channel), headers, body: bytes });
  if (options.headerName) {
    // keep the caller's header casing, as a REST API (v1) front door would
    event.headers = { ...headers };
  }
  return event;
}

/** A webhook channel: `default` with the local secret unless told otherwise. */
export const webhookChannel = (overrides: Partial<WebhookChannel> = {}): WebhookChannel => ({
  id: DEFAULT_CHANNEL_ID,
  channelSecrets: [LOCAL_CHANNEL_SECRET],
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
  ...overrides,
});

export const webhookConfigFor = (
  queueUrl: string,
  channels: WebhookChannel[] = [webhookChannel()],
  maxBodyBytes = 1024 * 1024,
): WebhookConfig => ({ channels: new ById(channels), queueUrl, maxBodyBytes });

/** Engagement events to their own queue, with the default chat triggers of linking and "my points". */
export const engagementRoutingFor = (
  queueUrl: string,
  rulesByChannel: ReadonlyMap<string, readonly EngagementRule[]>,
): EngagementRouting => ({
  queueUrl,
  rulesByChannel,
  chat: {
    linkPostbackData: DEFAULTS.LINK_POSTBACK_DATA,
    unlinkPostbackData: DEFAULTS.UNLINK_POSTBACK_DATA,
    linkKeyword: undefined,
  },
  points: { pointsPostbackData: DEFAULTS.POINTS_POSTBACK_DATA },
});
