import { createHash } from 'node:crypto';

import type { IdentityNotice } from '../domain/identity-rules';
import type { TierNotice } from '../domain/tier-rules';
import type { LineWebhookEvent } from '../line/callback';

/**
 * The event id of one notification applied to one LINE user: the same for every delivery of the notification, so
 * SQS (5 minutes) and the user's record (its identity lane) each take it once.
 */
export function identityEventId(notificationKey: string, destination: string, userId: string): string {
  const digest = createHash('sha256').update(`${notificationKey}\n${destination}#${userId}`).digest('base64url');
  return `CAPILLARY-${digest}`;
}

/**
 * A Capillary identity (or tier) change for one LINE user, shaped like LINE's events so the worker orders it in the
 * user's FIFO group and record (lane `identity`, domain/identity-rules; lane `loyalty`, domain/tier-rules). Its time
 * is the notification's.
 */
export function identityEvent(
  userId: string,
  { type, ...notice }: IdentityNotice | TierNotice,
  webhookEventId: string,
  createdAt: number,
): LineWebhookEvent {
  const eventType: string = type; // not a LINE type: LINE never sends it
  return {
    type: eventType,
    mode: 'active',
    timestamp: createdAt,
    webhookEventId,
    source: { type: 'user', userId },
    deliveryContext: { isRedelivery: false },
    capillary: notice,
  } as LineWebhookEvent;
}
