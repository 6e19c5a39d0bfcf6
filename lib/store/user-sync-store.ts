import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import type { EventLane, LineEventFacts, LinkState, SubscriptionState, UserSyncState } from '../domain/sync-rules';
import { identityAttributes } from './customer-index';
import { ClaimLostError } from './errors';
import type { UserRecordStore } from './ports';

export interface LineUserKey {
  /** the bot's user id: one table can serve several LINE channels */
  destination: string;
  userId: string;
  /**
   * The channel the record belongs to and the Capillary org its customer ids live in: written with the ids, for the
   * customer → users index (store/customer-index). Absent: the `default` org, and no channel attribute.
   */
  owner?: { channel: string; capillaryOrg: string };
}

/** The expired claim of the other lane that a claim took over: put back on completion (see `complete`). */
export interface TakenOverClaim {
  eventId: string;
  timestamp: number;
  expiresAt: number;
  lane: EventLane;
}

/**
 * A granted claim carries the record as it was before it (its claim fields are the previous claim's);
 * a refused claim carries the record that refused it: domain/sync-rules `admission` says why.
 */
export type ClaimResult =
  { claimed: true; state: UserSyncState; takenOver?: TakenOverClaim } | { claimed: false; state: UserSyncState };

/** What an applied event changes in the record; an absent field keeps its value, null removes it. */
export interface AppliedChange {
  /** false: release the claim without recording the event as its lane's last (a refused link must not make the user's own link stale) */
  recordEvent?: false;
  /**
   * The other lane's expired claim this event took over: written back instead of removing the claim, so
   * an older event of that lane stays stale against it (its own retry, or a newer event, takes it again).
   */
  restoreClaim?: TakenOverClaim;
  customerId?: number | null;
  subscription?: SubscriptionState | null;
  linkedCustomerId?: number | null;
  link?: LinkState | null;
  /** the member index items (`linkref#…`) that point at this user */
  linkRefs?: string[] | null;
  /** when Capillary deleted the customer on a PII request (domain/identity-rules); null clears the mark */
  forgottenAt?: number | null;
}

/** Where each lane (domain/sync-rules EventLane) records its last applied event. */
const LAST_APPLIED: Record<EventLane, { ts: string; id: string }> = {
  sync: { ts: 'lastEventTs', id: 'lastEventId' },
  link: { ts: 'lastLinkEventTs', id: 'lastLinkEventId' },
  identity: { ts: 'lastIdentityEventTs', id: 'lastIdentityEventId' },
};
/** A claim of another lane; records from before lanes existed have sync claims without `claimLane`. */
const OTHER_LANE_CLAIM: Record<EventLane, string> = {
  sync: '(attribute_exists(claimLane) AND claimLane <> :lane)',
  link: '(attribute_not_exists(claimLane) OR claimLane <> :lane)',
  identity: '(attribute_not_exists(claimLane) OR claimLane <> :lane)',
};

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

export function toState(item: Record<string, AttributeValue> | undefined): UserSyncState {
  if (!item) return {};
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  return {
    customerId: num('customerId'),
    subscription: item.subscription?.S as SubscriptionState | undefined,
    lastEventTimestamp: num('lastEventTs'),
    lastEventId: item.lastEventId?.S,
    lastLinkEventTimestamp: num('lastLinkEventTs'),
    lastLinkEventId: item.lastLinkEventId?.S,
    lastIdentityEventTimestamp: num('lastIdentityEventTs'),
    lastIdentityEventId: item.lastIdentityEventId?.S,
    pendingLane: item.claimLane?.S as EventLane | undefined,
    pendingEventTimestamp: num('claimTs'),
    pendingEventId: item.claimEventId?.S,
    pendingExpiresAt: num('claimExpiresAt'),
    linkedCustomerId: num('linkedCustomerId'),
    link:
      item.linkStatus?.S === undefined
        ? undefined
        : {
            status: item.linkStatus.S as LinkState['status'],
            detail: item.linkDetail?.S,
            at: num('linkAt') ?? 0,
          },
    ...(item.linkRefs?.SS ? { linkRefs: item.linkRefs.SS } : {}),
    ...(item.forgottenAt?.N ? { forgottenAt: Number(item.forgottenAt.N) } : {}),
  };
}

/**
 * One DynamoDB item per LINE user: the Capillary customer id, the subscription state and the last
 * applied event. It is the idempotency and ordering guard, built on single-item conditional writes:
 * a claim before any side effect, whose condition is domain/sync-rules `admission(...) === 'apply'`
 * written for DynamoDB, and a completion after them. Two writes per applied event, none on the hot
 * path of a duplicate beyond the rejected claim.
 */
export class UserSyncStore implements UserRecordStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly claimTtlMs: number,
  ) {}

  static partitionKey(key: LineUserKey): string {
    return `${key.destination}#${key.userId}`;
  }

  async claim(key: LineUserKey, event: LineEventFacts, now = Date.now()): Promise<ClaimResult> {
    const lane = event.lane ?? 'sync';
    const last = LAST_APPLIED[lane];
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(UserSyncStore.partitionKey(key)) },
          UpdateExpression:
            'SET claimEventId = :eventId, claimTs = :ts, claimExpiresAt = :claimExpiresAt, claimLane = :lane',
          // admission() in DynamoDB's words: newer than the lane's last applied event, and no live claim of
          // another event (the same event re-claims at once; an expired claim falls to a newer event of its
          // lane, or to any event of the other lane).
          ConditionExpression:
            `(attribute_not_exists(${last.ts}) OR ${last.ts} < :ts) AND ` +
            `(attribute_not_exists(claimExpiresAt) OR claimEventId = :eventId OR (claimExpiresAt < :now AND (claimTs < :ts OR ${OTHER_LANE_CLAIM[lane]})))`,
          ExpressionAttributeValues: {
            ':lane': s(lane),
            ':eventId': s(event.webhookEventId),
            ':ts': n(event.timestamp),
            ':now': n(now),
            ':claimExpiresAt': n(now + this.claimTtlMs),
          },
          ReturnValues: 'ALL_OLD',
          // DynamoDB then returns the refusing record with the error; dynalite does not, so it is read below.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const before = toState(result.Attributes);
      const { pendingEventId, pendingEventTimestamp, pendingExpiresAt } = before;
      const otherLane = (before.pendingLane ?? 'sync') !== lane;
      const takenOver =
        pendingEventId !== undefined && pendingEventId !== event.webhookEventId && otherLane
          ? {
              eventId: pendingEventId,
              timestamp: pendingEventTimestamp ?? 0,
              expiresAt: pendingExpiresAt ?? 0,
              lane: before.pendingLane ?? 'sync',
            }
          : undefined;
      return { claimed: true, state: before, ...(takenOver ? { takenOver } : {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { claimed: false, state: toState(error.Item ?? (await this.#getItem(key))) };
    }
  }

  async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now = Date.now()): Promise<void> {
    const values: Record<string, AttributeValue> = {
      ':eventId': s(event.webhookEventId),
      ':ts': n(event.timestamp),
      ':now': n(now),
    };
    const last = LAST_APPLIED[event.lane ?? 'sync'];
    const set =
      change.recordEvent === false
        ? ['updatedAt = :now']
        : [`${last.ts} = :ts`, `${last.id} = :eventId`, 'updatedAt = :now'];
    if (change.recordEvent === false) delete values[':ts'];
    // `expiresAt`: the TTL claims used to set on the user item (no longer: a user item never expires).
    const remove = change.restoreClaim ? [] : ['claimEventId', 'claimTs', 'claimExpiresAt', 'claimLane', 'expiresAt'];
    const put = (attribute: string, value: AttributeValue | null | undefined) => {
      if (value === undefined) return;
      if (value === null) return void remove.push(attribute);
      set.push(`${attribute} = :${attribute}`);
      values[`:${attribute}`] = value;
    };
    const number = (value: number | null | undefined) => (value === undefined || value === null ? value : n(value));
    if (change.restoreClaim) {
      const { eventId, timestamp, expiresAt, lane } = change.restoreClaim;
      set.push(
        'claimEventId = :restoredId',
        'claimTs = :restoredTs',
        'claimExpiresAt = :restoredExpiresAt',
        'claimLane = :restoredLane',
      );
      Object.assign(values, {
        ':restoredId': s(eventId),
        ':restoredTs': n(timestamp),
        ':restoredExpiresAt': n(expiresAt),
        ':restoredLane': s(lane),
      });
    }
    put('subscription', change.subscription ? s(change.subscription) : change.subscription);
    put('customerId', number(change.customerId));
    put('linkedCustomerId', number(change.linkedCustomerId));
    if (change.link) {
      put('linkStatus', s(change.link.status));
      put('linkDetail', change.link.detail === undefined ? null : s(change.link.detail));
      put('linkAt', n(change.link.at));
    }
    for (const [attribute, value] of Object.entries(identityAttributes(key, change))) put(attribute, value);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(UserSyncStore.partitionKey(key)) },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'claimEventId = :eventId',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new ClaimLostError(event.webhookEventId, { cause: error });
      throw error;
    }
  }

  async read(key: LineUserKey): Promise<UserSyncState | undefined> {
    const item = await this.#getItem(key);
    return item ? toState(item) : undefined;
  }

  async #getItem(key: LineUserKey): Promise<Record<string, AttributeValue> | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: s(UserSyncStore.partitionKey(key)) },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  }
}
