import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import {
  claimLaneOf,
  CLAIMS_ONLY_UNREGISTERED,
  LANE_ORDER,
  laneOf,
  UNNAMED_LANE,
  type EventLane,
  type LineEventFacts,
  type UserSyncState,
} from '../domain/sync-rules';
import { identityAttributes } from './customer-index';
import { ClaimLostError } from './errors';
import type { UserRecordStore } from './ports';
import {
  LANE_ATTRIBUTES,
  n,
  s,
  toState,
  writeChange,
  type AppliedChange,
  type TakenOverClaim,
} from './user-sync-record';

export { toState, type AppliedChange, type TakenOverClaim } from './user-sync-record';

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

/**
 * A granted claim carries the record as it was before it (its claim fields are the previous claim's);
 * a refused claim carries the record that refused it: domain/sync-rules `admission` says why.
 */
export type ClaimResult =
  { claimed: true; state: UserSyncState; takenOver?: TakenOverClaim } | { claimed: false; state: UserSyncState };

/** A claim of another lane (domain/sync-rules EventLane); claims without `claimLane` are of the unnamed lane. */
const otherLaneClaim = (lane: EventLane): string =>
  lane === UNNAMED_LANE
    ? '(attribute_exists(claimLane) AND claimLane <> :lane)'
    : '(attribute_not_exists(claimLane) OR claimLane <> :lane)';

// `expiresAt`: the TTL claims used to set on the user item; removed with the claim (a user item never expires).
const CLAIM_ATTRIBUTES = ['claimEventId', 'claimTs', 'claimExpiresAt', 'claimLane', 'expiresAt'];

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
    const lane = laneOf(event);
    const { lastTs, inFlightTs, inFlightId } = LANE_ATTRIBUTES[lane];
    // A lane that waits for its unrecorded event admits no other event past it (domain/sync-rules LANE_ORDER).
    const order = LANE_ORDER[lane];
    const takesOver = order === 'take-over';
    const pastInFlight = `${inFlightId} = :eventId${takesOver ? ` OR ${inFlightTs} < :ts` : ''}`;
    // An unordered lane's events are never stale: only the claim is checked, and an expired one falls to any event.
    const recordAdmits =
      (CLAIMS_ONLY_UNREGISTERED.has(lane) ? 'attribute_not_exists(customerId) AND ' : '') +
      (order === 'unordered'
        ? ''
        : `(attribute_not_exists(${lastTs}) OR ${lastTs} < :ts) AND ` +
          `(attribute_not_exists(${inFlightTs}) OR ${pastInFlight}) AND `);
    const expiredClaimFalls =
      order === 'unordered'
        ? ''
        : ` AND ${takesOver ? `(claimTs < :ts OR ${otherLaneClaim(lane)})` : otherLaneClaim(lane)}`;
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(UserSyncStore.partitionKey(key)) },
          UpdateExpression:
            'SET claimEventId = :eventId, claimTs = :ts, claimExpiresAt = :claimExpiresAt, claimLane = :lane, ' +
            `${inFlightTs} = :ts, ${inFlightId} = :eventId`,
          // admission() in DynamoDB's words: no customer yet where the lane claims only such users, newer than the
          // lane's last applied event, past the lane's unrecorded event (it is that event, or newer where the lane
          // takes over), and no live claim of another event (the same event re-claims at once; an expired claim
          // falls to a newer event of its lane where it takes over, or to any event of another lane).
          ConditionExpression:
            recordAdmits +
            `(attribute_not_exists(claimExpiresAt) OR claimEventId = :eventId OR (claimExpiresAt < :now${expiredClaimFalls}))`,
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
      const claimLane = claimLaneOf(before);
      const takenOver =
        pendingEventId !== undefined && pendingEventId !== event.webhookEventId && claimLane !== lane
          ? {
              eventId: pendingEventId,
              timestamp: pendingEventTimestamp ?? 0,
              expiresAt: pendingExpiresAt ?? 0,
              lane: claimLane,
            }
          : undefined;
      return { claimed: true, state: before, ...(takenOver ? { takenOver } : {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { claimed: false, state: toState(error.Item ?? (await this.#getItem(key))) };
    }
  }

  async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now = Date.now()): Promise<void> {
    const { lastTs, lastId, inFlightTs, inFlightId } = LANE_ATTRIBUTES[laneOf(event)];
    const values: Record<string, AttributeValue> = { ':eventId': s(event.webhookEventId), ':now': n(now) };
    const set = ['updatedAt = :now'];
    // Recorded, the event overtakes its lane's older unrecorded ones; released, it was its lane's only one
    // (lanes that release wait for their unrecorded events: domain/sync-rules LANE_ORDER).
    const remove = [...(change.restoreClaim ? [] : CLAIM_ATTRIBUTES), inFlightTs, inFlightId];
    if (change.recordEvent !== false) {
      set.push(`${lastTs} = :ts`, `${lastId} = :eventId`);
      values[':ts'] = n(event.timestamp);
    }
    writeChange(change, { set, remove, values }, identityAttributes(key, change));
    const update = `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`;
    const refused = await this.#updateIf(key, update, 'claimEventId = :eventId', values);
    if (refused) throw new ClaimLostError(event.webhookEventId, { cause: refused });
  }

  async forgetInFlight(key: LineUserKey, event: LineEventFacts): Promise<boolean> {
    const { inFlightTs, inFlightId } = LANE_ATTRIBUTES[laneOf(event)];
    const values = { ':eventId': s(event.webhookEventId) };
    // Mostly there is no mark to forget: one refused write, and done.
    if (await this.#updateIf(key, `REMOVE ${inFlightTs}, ${inFlightId}`, `${inFlightId} = :eventId`, values))
      return false;
    // Its own claim there, from an earlier attempt, goes with the mark, as a release takes both.
    await this.#updateIf(key, `REMOVE ${CLAIM_ATTRIBUTES.join(', ')}`, 'claimEventId = :eventId', values);
    return true;
  }

  /** The update, if the record meets the condition; DynamoDB's refusal when it does not. */
  async #updateIf(key: LineUserKey, update: string, condition: string, values: Record<string, AttributeValue>) {
    try {
      const pk = s(UserSyncStore.partitionKey(key));
      const command = { TableName: this.tableName, Key: { pk }, UpdateExpression: update };
      await this.client.send(
        new UpdateItemCommand({ ...command, ConditionExpression: condition, ExpressionAttributeValues: values }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return error;
      throw error;
    }
  }

  async read(key: LineUserKey): Promise<UserSyncState | undefined> {
    const item = await this.#getItem(key);
    return item ? toState(item) : undefined;
  }

  async #getItem(key: LineUserKey): Promise<Record<string, AttributeValue> | undefined> {
    const pk = s(UserSyncStore.partitionKey(key));
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
    );
    return result.Item;
  }
}
