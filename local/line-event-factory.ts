/**
 * LINE webhook events and callback bodies as LINE sends them (docs/line.md#webhook-events), for the laptop
 * pipeline (replay, the link flow), the rigs, the chaos and fuzz runs, the benchmark and the tests.
 */
import { randomBytes } from 'node:crypto';

import type { LineWebhookEvent } from '../lib/line/callback';

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
