import type { AttributeValue } from '@aws-sdk/client-dynamodb';

import {
  EVENT_LANES,
  LAST_APPLIED_FIELDS,
  type EventLane,
  type LaneEvent,
  type LinkState,
  type Replacement,
  type SubscriptionState,
  type UserSyncState,
} from '../domain/sync-rules';

/** The expired claim of another lane that a claim took over: put back on completion (UserSyncStore.complete). */
export interface TakenOverClaim {
  eventId: string;
  timestamp: number;
  expiresAt: number;
  lane: EventLane;
}

/** What an applied event changes in the record; an absent field keeps its value, null removes it. */
export interface AppliedChange {
  /** false: release the claim without recording the event as its lane's last (a refused link must not make the user's own link stale) */
  recordEvent?: false;
  /**
   * The other lane's expired claim this event took over: written back instead of removing the claim. That lane's
   * in-flight event keeps it stale-proof anyway; a claim written before in-flight events existed has no other trace.
   */
  restoreClaim?: TakenOverClaim;
  customerId?: number | null;
  subscription?: SubscriptionState | null;
  linkedCustomerId?: number | null;
  link?: LinkState | null;
  /** the member index keys pointing at this user; null (or none) removes them */
  linkRefs?: string[] | null;
  /** when Capillary deleted the customer on a PII request (domain/identity-rules); null clears the mark */
  forgottenAt?: number | null;
  /** a customer deleted on a PII request that an event replaced (domain/identity-rules); null forgets it */
  replaced?: Replacement | null;
  /**
   * When a completed link read the member's current tier (and set its menu): the loyalty lane's last applied time,
   * so a tier notification from before that read is stale (domain/tier-rules).
   */
  tierReadAt?: number;
}

/** Where the user record keeps one lane's events. */
export interface LaneAttributes {
  /** the last applied event */
  lastTs: string;
  lastId: string;
  /** the newest event that claimed and was neither recorded nor released (UserSyncState.inFlight) */
  inFlightTs: string;
  inFlightId: string;
}

/** One row per lane (domain/sync-rules EVENT_LANES): a new lane is a new row, nothing else in the store. */
export const LANE_ATTRIBUTES: Record<EventLane, LaneAttributes> = {
  sync: {
    lastTs: 'lastEventTs',
    lastId: 'lastEventId',
    inFlightTs: 'syncInFlightTs',
    inFlightId: 'syncInFlightId',
  },
  link: {
    lastTs: 'lastLinkEventTs',
    lastId: 'lastLinkEventId',
    inFlightTs: 'linkInFlightTs',
    inFlightId: 'linkInFlightId',
  },
  identity: {
    lastTs: 'lastIdentityEventTs',
    lastId: 'lastIdentityEventId',
    inFlightTs: 'identityInFlightTs',
    inFlightId: 'identityInFlightId',
  },
  engagement: {
    lastTs: 'lastEngagementEventTs',
    lastId: 'lastEngagementEventId',
    inFlightTs: 'engagementInFlightTs',
    inFlightId: 'engagementInFlightId',
  },
  loyalty: {
    lastTs: 'lastTierChangeTs',
    lastId: 'lastTierChangeId',
    inFlightTs: 'tierInFlightTs',
    inFlightId: 'tierInFlightId',
  },
};

export function toState(item: Record<string, AttributeValue> | undefined): UserSyncState {
  if (!item) return {};
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const lanes: Partial<UserSyncState> = {};
  const inFlight: Partial<Record<EventLane, LaneEvent>> = {};
  for (const lane of EVENT_LANES) {
    const attributes = LANE_ATTRIBUTES[lane];
    lanes[LAST_APPLIED_FIELDS[lane].timestamp] = num(attributes.lastTs);
    lanes[LAST_APPLIED_FIELDS[lane].eventId] = item[attributes.lastId]?.S;
    const [eventId, timestamp] = [item[attributes.inFlightId]?.S, num(attributes.inFlightTs)];
    if (eventId !== undefined && timestamp !== undefined) inFlight[lane] = { eventId, timestamp };
  }
  return {
    customerId: num('customerId'),
    subscription: item.subscription?.S as SubscriptionState | undefined,
    ...lanes,
    pendingLane: item.claimLane?.S as EventLane | undefined,
    pendingEventTimestamp: num('claimTs'),
    pendingEventId: item.claimEventId?.S,
    pendingExpiresAt: num('claimExpiresAt'),
    ...(Object.keys(inFlight).length > 0 ? { inFlight } : {}),
    linkedCustomerId: num('linkedCustomerId'),
    link:
      item.linkStatus?.S === undefined
        ? undefined
        : {
            status: item.linkStatus.S as LinkState['status'],
            detail: item.linkDetail?.S,
            at: num('linkAt') ?? 0,
          },
    ...(item.linkRefs?.SS === undefined ? {} : { linkRefs: item.linkRefs.SS }),
    ...(item.forgottenAt?.N === undefined ? {} : { forgottenAt: Number(item.forgottenAt.N) }),
    ...replacedOf(num('replacedCustomerId'), num('replacedAt')),
  };
}

function replacedOf(customerId: number | undefined, at: number | undefined): Pick<UserSyncState, 'replaced'> {
  if (customerId === undefined) return {};
  return { replaced: at === undefined ? { customerId } : { customerId, at } };
}

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });

/**
 * Adds what the change sets and removes to an update expression's clauses; `derived` = attributes computed
 * from the change elsewhere (store/customer-index: index keys, link removal, member index keys, the forgotten mark).
 */
export function writeChange(
  change: AppliedChange,
  update: { set: string[]; remove: string[]; values: Record<string, AttributeValue> },
  derived: Record<string, AttributeValue | null | undefined> = {},
): void {
  const put = (attribute: string, value: AttributeValue | null | undefined) => {
    if (value === undefined) return;
    if (value === null) return void update.remove.push(attribute);
    update.set.push(`${attribute} = :${attribute}`);
    update.values[`:${attribute}`] = value;
  };
  const number = (value: number | null | undefined) => (value === undefined || value === null ? value : n(value));
  if (change.restoreClaim) {
    const { eventId, timestamp, expiresAt, lane } = change.restoreClaim;
    put('claimEventId', s(eventId));
    put('claimTs', n(timestamp));
    put('claimExpiresAt', n(expiresAt));
    put('claimLane', s(lane));
  }
  put('subscription', change.subscription ? s(change.subscription) : change.subscription);
  put('customerId', number(change.customerId));
  put('linkedCustomerId', number(change.linkedCustomerId));
  if (change.link) {
    put('linkStatus', s(change.link.status));
    put('linkDetail', change.link.detail === undefined ? null : s(change.link.detail));
    put('linkAt', n(change.link.at));
  }
  put(LANE_ATTRIBUTES.loyalty.lastTs, number(change.tierReadAt));
  put('replacedCustomerId', number(change.replaced === null ? null : change.replaced?.customerId));
  // A replacement without a follow's time (an unfollow made it) removes an older memory's.
  put('replacedAt', number(change.replaced === null ? null : change.replaced && (change.replaced.at ?? null)));
  for (const [attribute, value] of Object.entries(derived)) put(attribute, value);
}
