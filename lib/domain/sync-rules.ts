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
 * changes (domain/identity-rules) are ordered among themselves, by the notification's time; so are its tier
 * changes (domain/tier-rules), apart from those: a late merge must not be stale because of a newer tier change.
 */
export const EVENT_LANES = ['sync', 'link', 'identity', 'engagement', 'loyalty'] as const;
export type EventLane = (typeof EVENT_LANES)[number];
/** The lane of events and claims that name none: they were written before lanes existed. */
export const UNNAMED_LANE: EventLane = 'sync';

/**
 * What a newer event of a lane does about an older event of the lane that claimed and was never recorded nor
 * released (its worker died; its message is retried or waits in the DLQ), once that claim expired:
 * - `take-over`: it goes ahead. Sync events set an absolute state and look Capillary up where the record is silent,
 *   so they need not know what the older one did; the older one is then stale.
 * - `wait`: it waits until that event is recorded or released. A link event acts on what the record says the
 *   lane's previous event did (an unlink detaches the member the record names), which an unrecorded link may
 *   already have changed in Capillary. Only such lanes release events (a refused link).
 * - `unordered`: no event of the lane is ever stale nor waits for another of it. Engagement events are each their
 *   own fact (a tap, a visit), posted once each whatever their order: the worker remembers what it posted.
 */
export const LANE_ORDER: Record<EventLane, 'take-over' | 'wait' | 'unordered'> = {
  sync: 'take-over',
  link: 'wait',
  // Capillary's notices set absolute facts (who survived a merge, who was deleted): like sync, a newer one may go ahead.
  identity: 'take-over',
  engagement: 'unordered',
  // A tier change sets the tier's menu (an absolute state): the newest one wins.
  loyalty: 'take-over',
};

/**
 * Lanes whose events claim a user's record only to register the user: once the user has a customer they post
 * without one, and a claim would turn the user's follows back for nothing (admission `registered`).
 */
export const CLAIMS_ONLY_UNREGISTERED: ReadonlySet<EventLane> = new Set(['engagement']);

/** An event of a lane, by its id and timestamp. */
export interface LaneEvent {
  eventId: string;
  timestamp: number;
}

/** The per-user record kept in DynamoDB, as the core sees it. */
export interface UserSyncState {
  customerId?: number;
  subscription?: SubscriptionState;
  /** the last applied event of the sync lane; of the link and identity lanes next (LAST_APPLIED_FIELDS) */
  lastEventTimestamp?: number;
  lastEventId?: string;
  lastLinkEventTimestamp?: number;
  lastLinkEventId?: string;
  lastIdentityEventTimestamp?: number;
  lastIdentityEventId?: string;
  /** the last applied tier change (loyalty lane); a completed link sets the time it read the member's tier */
  lastTierChangeTimestamp?: number;
  lastTierChangeEventId?: string;
  lastEngagementEventTimestamp?: number; // the last posted tap: for the record only (that lane is unordered)
  lastEngagementEventId?: string;
  /** the claim: the one event allowed to change the user now (absent lane: a sync claim, written before lanes) */
  pendingLane?: EventLane;
  /** an event that was claimed but not recorded: in flight, or its worker died (it may be in the DLQ) */
  pendingEventTimestamp?: number;
  pendingEventId?: string;
  /** epoch ms after which another event may take the pending claim over */
  pendingExpiresAt?: number;
  /**
   * Per lane, the newest event that claimed and was neither recorded nor released: it may have reached Capillary.
   * Kept when its claim expires or another lane takes the claim over (records from before it have only the claim).
   */
  inFlight?: Partial<Record<EventLane, LaneEvent>>;
  /** the brand's member this LINE user is linked to (domain/link-rules) */
  linkedCustomerId?: number;
  link?: LinkState;
  /** the member index items (`linkref#…`) that point at this user */
  linkRefs?: string[];
  /** set when Capillary deleted the customer on a PII request (domain/identity-rules): the time of that deletion */
  forgottenAt?: number;
  /** a customer deleted on a PII request that an event replaced before the deletion's notice came (domain/identity-rules) */
  replaced?: Replacement;
}

/**
 * The customer an event found deleted on a PII request (8109), replaced by another one or by none, and the time of the
 * newest follow that put the user on a customer since (none: no consent rests on the replacement): only the deletion's
 * notice tells whether that consent came before the deletion.
 */
export interface Replacement {
  customerId: number;
  at?: number;
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
  /** UNNAMED_LANE when absent */
  lane?: EventLane;
}

/**
 * What the user's record says about an event: apply it, or skip it as the same event again (`duplicate`) or one
 * overtaken by a newer event (`stale`); `held` = another event's live claim is in the way, so retry later (the claim
 * expires if its worker died); `registered` = the user has a customer, which a CLAIMS_ONLY_UNREGISTERED lane's event
 * goes on with, unclaimed.
 */
export type Admission = 'apply' | 'duplicate' | 'stale' | 'held' | 'registered';
export type SkipReason = Extract<Admission, 'duplicate' | 'stale'>;

/** Where the state keeps each lane's last applied event. */
export const LAST_APPLIED_FIELDS: Record<
  EventLane,
  {
    timestamp: `last${'' | 'Link' | 'Identity' | 'Engagement'}EventTimestamp` | 'lastTierChangeTimestamp';
    eventId: `last${'' | 'Link' | 'Identity' | 'Engagement'}EventId` | 'lastTierChangeEventId';
  }
> = {
  sync: { timestamp: 'lastEventTimestamp', eventId: 'lastEventId' },
  link: { timestamp: 'lastLinkEventTimestamp', eventId: 'lastLinkEventId' },
  identity: { timestamp: 'lastIdentityEventTimestamp', eventId: 'lastIdentityEventId' },
  engagement: { timestamp: 'lastEngagementEventTimestamp', eventId: 'lastEngagementEventId' },
  loyalty: { timestamp: 'lastTierChangeTimestamp', eventId: 'lastTierChangeEventId' },
};

export const laneOf = (event: LineEventFacts): EventLane => event.lane ?? UNNAMED_LANE;
export const claimLaneOf = (state: UserSyncState): EventLane => state.pendingLane ?? UNNAMED_LANE;

/** The last applied event of the lane. */
export function lastApplied(state: UserSyncState, lane: EventLane): Partial<LaneEvent> {
  const fields = LAST_APPLIED_FIELDS[lane];
  return { eventId: state[fields.eventId], timestamp: state[fields.timestamp] };
}

/** The lane's claimed events that were not recorded nor released: its in-flight one, and the claim if it is the lane's. */
function unrecordedClaims(state: UserSyncState, lane: EventLane): LaneEvent[] {
  const claims: LaneEvent[] = [];
  const inFlight = state.inFlight?.[lane];
  if (inFlight) claims.push(inFlight);
  const { pendingEventId: eventId, pendingEventTimestamp: timestamp } = state;
  if (claimLaneOf(state) === lane && eventId !== undefined && timestamp !== undefined)
    claims.push({ eventId, timestamp });
  return claims;
}

/**
 * The one ordering rule. An event applies only when it is newer than the last applied one for the user:
 * LINE does not order deliveries and redelivers, so "not newer" is either the same event again or
 * overtaken. UserSyncStore.claim writes this rule as its DynamoDB condition (test/lib/store pins the two
 * to agree), and the worker asks it why a claim was refused.
 */
export function admission(event: LineEventFacts, state: UserSyncState, now: number): Admission {
  const lane = laneOf(event);
  if (CLAIMS_ONLY_UNREGISTERED.has(lane) && state.customerId !== undefined) return 'registered';
  if (LANE_ORDER[lane] === 'unordered') return claimAdmission(event, state, now);
  const last = lastApplied(state, lane);
  if (last.timestamp !== undefined && event.timestamp <= last.timestamp)
    return last.eventId === event.webhookEventId ? 'duplicate' : 'stale';
  const unrecorded = unrecordedClaims(state, lane).filter((claim) => claim.eventId !== event.webhookEventId);
  // A newer event of the lane got as far as Capillary and may have changed it; an older one must not undo that,
  // even once that event's claim has expired or another lane took the claim over (it may wait in the DLQ). A lane that
  // waits learns that newer event's outcome first: released, it changed nothing (a failed link), and the older applies.
  if (unrecorded.some((claim) => event.timestamp <= claim.timestamp))
    return LANE_ORDER[lane] === 'wait' ? 'held' : 'stale';
  if (unrecorded.length > 0 && LANE_ORDER[lane] === 'wait') return 'held';
  return claimAdmission(event, state, now);
}

/**
 * An event of the lane newer than `since` claimed, and was not recorded nor released: it may have reached Capillary.
 * The event's own earlier attempt counts too: it may have taken over such a claim, whose trace it then replaced.
 */
export const unrecordedSince = (state: UserSyncState, event: LineEventFacts, since: number) =>
  unrecordedClaims(state, laneOf(event)).some(({ timestamp }) => timestamp > since);

/** The claim itself: free, the event's own (its retry after a crash re-claims at once), or another's, live or expired. */
function claimAdmission(event: LineEventFacts, state: UserSyncState, now: number): Admission {
  if (state.pendingEventId === undefined || state.pendingEventId === event.webhookEventId) return 'apply';
  // Another event's claim: wait for it, or take it over once it expired (its worker died).
  return (state.pendingExpiresAt ?? Number.POSITIVE_INFINITY) < now ? 'apply' : 'held';
}
