import { randomBytes } from 'node:crypto';

import { ById, DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import type { WebhookChannel, WebhookConfig } from '../lib/config/webhook-config';
import type { LineWebhookEvent } from '../lib/line/callback';
import { toApiGatewayV2Event } from './lambda-events';
import { LOCAL_CHANNEL_SECRET, webhookPathFor } from './sample-events';
import { signLineBody } from './sign-line-body';

export const DESTINATION = 'U1f2e3d4c5b6a79880011223344556677';

export const lineUserId = (): string => `U${randomBytes(16).toString('hex')}`;

let sequence = 0;
/** ULID-shaped and unique per call. */
export const webhookEventId = (): string =>
  `01TEST${String(++sequence).padStart(8, '0')}${randomBytes(6).toString('hex').toUpperCase()}`.slice(0, 26);

/** The fields every LINE webhook event carries (docs/line.md#webhook-events). */
function lineEvent(type: string, userId: string, timestamp: number, fields: Record<string, unknown>): LineWebhookEvent {
  return {
    type,
    mode: 'active',
    timestamp,
    source: { type: 'user', userId },
    webhookEventId: webhookEventId(),
    deliveryContext: { isRedelivery: false },
    ...fields,
  } as LineWebhookEvent;
}

export const followEvent = (
  userId: string,
  timestamp: number,
  overrides: Partial<LineWebhookEvent> = {},
): LineWebhookEvent =>
  lineEvent('follow', userId, timestamp, {
    replyToken: randomBytes(16).toString('hex'),
    follow: { isUnblocked: false },
    ...overrides,
  });

export const unfollowEvent = (
  userId: string,
  timestamp: number,
  overrides: Partial<LineWebhookEvent> = {},
): LineWebhookEvent => lineEvent('unfollow', userId, timestamp, overrides);

export const textMessageEvent = (userId: string, timestamp: number, text = 'Hello 👋'): LineWebhookEvent =>
  lineEvent('message', userId, timestamp, {
    replyToken: randomBytes(16).toString('hex'),
    message: { type: 'text', id: '1', quoteToken: 'q', text },
  });

/** LINE's account-link event: `ok` with the user and a reply token, `failed` with neither (docs/line.md#account-link-event). */
export const accountLinkEvent = (
  userId: string,
  timestamp: number,
  nonce: string,
  result: 'ok' | 'failed' = 'ok',
): LineWebhookEvent => {
  const event = lineEvent('accountLink', userId, timestamp, {
    replyToken: randomBytes(16).toString('hex'),
    link: { result, nonce },
  });
  if (result === 'failed') {
    delete event.source;
    delete event.replyToken;
  }
  return event;
};

export const postbackEvent = (userId: string, timestamp: number, data: string): LineWebhookEvent =>
  lineEvent('postback', userId, timestamp, { replyToken: randomBytes(16).toString('hex'), postback: { data } });

export const redelivery = (event: LineWebhookEvent): LineWebhookEvent => ({
  ...event,
  deliveryContext: { isRedelivery: true },
});

export const callbackBody = (events: LineWebhookEvent[], destination = DESTINATION): string =>
  JSON.stringify({ destination, events });

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
