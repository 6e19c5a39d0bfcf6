import { UnsupportedEventTypeError } from './errors';

/**
 * What a LINE event means for a Capillary customer. Pure: no AWS, no HTTP.
 *
 * A follow (new friend or unblock) means "this person exists in Capillary and is opted in on LINE";
 * an unfollow (block) means "opted out". Subscription state is absolute, never a toggle, so applying
 * the same decision twice is harmless.
 */

export type SubscriptionState = 'OPTIN' | 'OPTOUT';

/**
 * Each lane has its own order. Follow/unfollow events set a state, so an older one is stale once a newer
 * one applied; link events (domain/link-rules) are ordered among themselves only: a link that arrives
 * after a newer follow still links, and an older follow is not made stale by a link. Capillary's own identity
 * changes (domain/identity-rules) are ordered among themselves, by the notification's time.
 */
export type EventLane = 'sync' | 'link' | 'identity';

/** The per-user record kept in DynamoDB, as the core sees it. */
export interface UserSyncState {
  customerId?: number;
  subscription?: SubscriptionState;
  /** the last applied event of the sync lane */
  lastEventTimestamp?: number;
  lastEventId?: string;
  /** the last applied event of the link lane */
  lastLinkEventTimestamp?: number;
  lastLinkEventId?: string;
  /** the last applied event of the identity lane */
  lastIdentityEventTimestamp?: number;
  lastIdentityEventId?: string;
  pendingLane?: EventLane;
  /** an event that was claimed but not recorded: in flight, or its worker died (it may be in the DLQ) */
  pendingEventTimestamp?: number;
  pendingEventId?: string;
  /** epoch ms after which another event may take the pending claim over */
  pendingExpiresAt?: number;
  /** the brand's member this LINE user is linked to (domain/link-rules) */
  linkedCustomerId?: number;
  link?: LinkState;
  /** the member index items (`linkref#…`) that point at this user */
  linkRefs?: string[];
  /** set when Capillary deleted the customer on a PII request (domain/identity-rules): the time of that deletion */
  forgottenAt?: number;
}

/** The user record's view of the last link attempt: shown by the link status, never retried on its own. */
export interface LinkState {
  status: 'linked' | 'failed' | 'merge-pending' | 'unlinked';
  /** why a link failed (e.g. `member-not-found`), or the merge request id while one is pending */
  detail?: string;
  at: number;
}

/** The parts of a LINE webhook event the rules look at. Unknown fields are carried, never needed. */
export interface LineEventFacts {
  type: string;
  webhookEventId: string;
  timestamp: number;
  userId?: string;
  isUnblocked?: boolean;
  /** 'sync' when absent */
  lane?: EventLane;
}

export type SyncDecision =
  /** follow of someone with no known customer: register, then opt in */
  | { action: 'register'; subscription: 'OPTIN' }
  /** follow or unfollow of a known customer: set the subscription */
  | { action: 'subscribe'; subscription: SubscriptionState; customerId: number }
  /** unfollow of someone with no known customer: find them if Capillary has them, else remember the opt-out */
  | { action: 'resolve-then-subscribe'; subscription: 'OPTOUT' }
  /** registration deferred until the user links (CAPILLARY_REGISTRATION_MODE=on-link): only the record changes */
  | { action: 'record'; subscription: SubscriptionState };

export type IgnoreReason = 'unsupported-type' | 'no-user-id';

/**
 * What the user's record says about an event: apply it, or skip it as the same event again
 * (`duplicate`) or one overtaken by a newer event (`stale`); `held` = another event's live claim is
 * in the way, so retry later (the claim expires if its worker died).
 */
export type Admission = 'apply' | 'duplicate' | 'stale' | 'held';
export type SkipReason = Extract<Admission, 'duplicate' | 'stale'>;

const SYNCED_TYPES = new Set(['follow', 'unfollow']);

/** Event types that never touch Capillary are acknowledged and counted, nothing more. */
export function ignoreReason(event: LineEventFacts): IgnoreReason | undefined {
  if (!SYNCED_TYPES.has(event.type)) return 'unsupported-type';
  if (!event.userId) return 'no-user-id';
  return undefined;
}

/**
 * The one ordering rule. An event applies only when it is newer than the last applied one for the user:
 * LINE does not order deliveries and redelivers, so "not newer" is either the same event again or
 * overtaken. UserSyncStore.claim writes this rule as its DynamoDB condition (test/lib/store pins the two
 * to agree), and the worker asks it why a claim was refused.
 */
export function admission(event: LineEventFacts, state: UserSyncState, now: number): Admission {
  const lane = event.lane ?? 'sync';
  const [lastTimestamp, lastId]: [number | undefined, string | undefined] = {
    sync: [state.lastEventTimestamp, state.lastEventId],
    link: [state.lastLinkEventTimestamp, state.lastLinkEventId],
    identity: [state.lastIdentityEventTimestamp, state.lastIdentityEventId],
  }[lane] as [number | undefined, string | undefined];
  if (lastTimestamp !== undefined && event.timestamp <= lastTimestamp)
    return lastId === event.webhookEventId ? 'duplicate' : 'stale';
  // The same event may re-claim at once: that is its own retry after a crash.
  if (state.pendingEventId === undefined || state.pendingEventId === event.webhookEventId) return 'apply';
  const expired = (state.pendingExpiresAt ?? Number.POSITIVE_INFINITY) < now;
  // Another lane's claim says nothing about this event's order: wait for it, or take it over once expired.
  if ((state.pendingLane ?? 'sync') !== lane) return expired ? 'apply' : 'held';
  // A newer event got as far as Capillary and may have changed it; an older one must not undo that, even
  // once that event's claim has expired (its message may wait in the DLQ for a redrive).
  if (state.pendingEventTimestamp !== undefined && event.timestamp <= state.pendingEventTimestamp) return 'stale';
  return expired ? 'apply' : 'held';
}

/**
 * @param deferRegistration CAPILLARY_REGISTRATION_MODE=on-link: a follower without a customer gets none
 *   until they link; the state is recorded and applied to the member then.
 */
export function decide(
  event: LineEventFacts,
  state: UserSyncState | undefined,
  deferRegistration = false,
): SyncDecision {
  const customerId = state?.customerId;
  // A forgotten user is on no customer: only a new consent (a follow after the deletion) registers them again.
  if (state !== undefined && keepsForgotten(event, state))
    return { action: 'record', subscription: event.type === 'follow' ? 'OPTIN' : 'OPTOUT' };
  if (deferRegistration && customerId === undefined && (event.type === 'follow' || event.type === 'unfollow')) {
    return { action: 'record', subscription: event.type === 'follow' ? 'OPTIN' : 'OPTOUT' };
  }
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

/**
 * Whether the user stays forgotten after this follow/unfollow: an unfollow touches nothing in Capillary, and a follow
 * from before the deletion is no new consent. A newer follow registers the user afresh and clears the mark.
 */
export function keepsForgotten(event: LineEventFacts, state: UserSyncState): boolean {
  if (state.forgottenAt === undefined) return false;
  return event.type !== 'follow' || event.timestamp <= state.forgottenAt;
}
