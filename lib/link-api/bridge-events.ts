import { randomBytes } from 'node:crypto';

import { BRIDGE_LINK_TYPE, BRIDGE_UNLINK_TYPE } from '../domain/link-rules';
import type { LineWebhookEvent } from '../line/callback';

/**
 * The events the link API queues for a LINE user, shaped like LINE's own so that the worker orders and
 * deduplicates them with the user's follow/unfollow events. The id is unique per request: a retry of the
 * HTTP request is a new event, which the nonce (single use) or the unlink (idempotent) makes harmless.
 */
function bridgeEvent(type: string, userId: string, now: number, fields: Record<string, unknown>): LineWebhookEvent {
  return {
    type,
    mode: 'active',
    timestamp: now,
    webhookEventId: `BRIDGE${randomBytes(10).toString('hex').toUpperCase()}`,
    source: { type: 'user', userId },
    deliveryContext: { isRedelivery: false },
    ...fields,
  } as LineWebhookEvent;
}

export const bridgeLinkEvent = (userId: string, nonce: string, now: number): LineWebhookEvent =>
  bridgeEvent(BRIDGE_LINK_TYPE, userId, now, { link: { result: 'ok', nonce } });

/** By customer, it names the member found linked: the worker unlinks only if the user is still linked to it. */
export const bridgeUnlinkEvent = (userId: string, now: number, memberId?: number): LineWebhookEvent =>
  bridgeEvent(BRIDGE_UNLINK_TYPE, userId, now, memberId === undefined ? {} : { unlink: { memberId } });
