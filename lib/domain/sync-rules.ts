/**
 * What a LINE event means for a Capillary customer. Pure: no AWS, no HTTP.
 *
 * A follow (new friend or unblock) means "this person exists in Capillary and is opted in on LINE";
 * an unfollow (block) means "opted out". Subscription state is absolute, never a toggle, so applying
 * the same decision twice is harmless.
 */

export type SubscriptionState = 'OPTIN' | 'OPTOUT';

/** The per-user record kept in DynamoDB, as the core sees it. */
export interface UserSyncState {
  customerId?: number;
  subscription?: SubscriptionState;
  lastEventTimestamp?: number;
  lastEventId?: string;
  /** an event that was claimed but not recorded: in flight, or its worker died (it may be in the DLQ) */
  pendingEventTimestamp?: number;
  pendingEventId?: string;
}

/** The parts of a LINE webhook event the rules look at. Unknown fields are carried, never needed. */
export interface LineEventFacts {
  type: string;
  webhookEventId: string;
  timestamp: number;
  userId?: string;
  isUnblocked?: boolean;
}

export type SyncDecision =
  /** follow of someone with no known customer: register, then opt in */
  | { action: 'register'; subscription: 'OPTIN' }
  /** follow or unfollow of a known customer: set the subscription */
  | { action: 'subscribe'; subscription: SubscriptionState; customerId: number }
  /** unfollow of someone with no known customer: find them if Capillary has them, else remember the opt-out */
  | { action: 'resolve-then-subscribe'; subscription: 'OPTOUT' };

export type IgnoreReason = 'unsupported-type' | 'no-user-id';
export type SkipReason = 'duplicate' | 'stale';

const SYNCED_TYPES = new Set(['follow', 'unfollow']);

/** Event types that never touch Capillary are acknowledged and counted, nothing more. */
export function ignoreReason(event: LineEventFacts): IgnoreReason | undefined {
  if (!SYNCED_TYPES.has(event.type)) return 'unsupported-type';
  if (!event.userId) return 'no-user-id';
  return undefined;
}

/**
 * An event applies only when it is newer than the last applied one for the user: LINE does not
 * order deliveries and redelivers, so "not newer" is either the same event again or overtaken.
 */
export function skipReason(event: LineEventFacts, state: UserSyncState | undefined): SkipReason | undefined {
  if (state?.lastEventTimestamp !== undefined && event.timestamp <= state.lastEventTimestamp) {
    return state.lastEventId === event.webhookEventId ? 'duplicate' : 'stale';
  }
  // A newer event got as far as Capillary and may have changed it; an older one must not undo that, even
  // once that event's claim has expired (its message may wait in the DLQ for a redrive).
  const pending = state?.pendingEventTimestamp;
  if (pending !== undefined && state?.pendingEventId !== event.webhookEventId && event.timestamp <= pending) return 'stale';
  return undefined;
}

export function decide(event: LineEventFacts, state: UserSyncState | undefined): SyncDecision {
  const customerId = state?.customerId;
  if (event.type === 'follow') {
    return customerId === undefined
      ? { action: 'register', subscription: 'OPTIN' }
      : { action: 'subscribe', subscription: 'OPTIN', customerId };
  }
  if (event.type === 'unfollow') {
    return customerId === undefined
      ? { action: 'resolve-then-subscribe', subscription: 'OPTOUT' }
      : { action: 'subscribe', subscription: 'OPTOUT', customerId };
  }
  throw new UnsupportedEventTypeError(event.type);
}

export class UnsupportedEventTypeError extends Error {
  constructor(public readonly eventType: string) {
    super(`No sync rule for LINE event type "${eventType}"`);
    this.name = 'UnsupportedEventTypeError';
  }
}
