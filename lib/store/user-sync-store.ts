import {
  ConditionalCheckFailedException,
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LineEventFacts, SubscriptionState, UserSyncState } from '../domain/sync-rules';
import { ClaimLostError } from './errors';

export interface LineUserKey {
  /** the bot's user id: one table can serve several LINE channels */
  destination: string;
  userId: string;
}

/** A refused claim carries the record that refused it: domain/sync-rules `admission` says why. */
export type ClaimResult = { claimed: true; state: UserSyncState } | { claimed: false; state: UserSyncState };

export interface AppliedChange {
  customerId?: number;
  subscription: SubscriptionState;
}

const ABANDONED_CLAIM_RETENTION_MS = 30 * 24 * 3600 * 1000;

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
    pendingEventTimestamp: num('claimTs'),
    pendingEventId: item.claimEventId?.S,
    pendingExpiresAt: num('claimExpiresAt'),
  };
}

/**
 * One DynamoDB item per LINE user: the Capillary customer id, the subscription state and the last
 * applied event. It is the idempotency and ordering guard, built on single-item conditional writes:
 * a claim before any side effect, whose condition is domain/sync-rules `admission(...) === 'apply'`
 * written for DynamoDB, and a completion after them. Two writes per applied event, none on the hot
 * path of a duplicate beyond the rejected claim.
 */
export class UserSyncStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly claimTtlMs: number,
  ) {}

  static partitionKey(key: LineUserKey): string {
    return `${key.destination}#${key.userId}`;
  }

  async claim(key: LineUserKey, event: LineEventFacts, now = Date.now()): Promise<ClaimResult> {
    try {
      const result = await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: s(UserSyncStore.partitionKey(key)) },
        UpdateExpression: 'SET claimEventId = :eventId, claimTs = :ts, claimExpiresAt = :claimExpiresAt, expiresAt = :abandonedAt',
        // admission() in DynamoDB's words: newer than the last applied event, and no live claim of another
        // event (the same event re-claims at once; an expired claim only falls to a newer event).
        ConditionExpression: '(attribute_not_exists(lastEventTs) OR lastEventTs < :ts) AND ' +
          '(attribute_not_exists(claimExpiresAt) OR claimEventId = :eventId OR (claimExpiresAt < :now AND claimTs < :ts))',
        ExpressionAttributeValues: {
          ':eventId': s(event.webhookEventId),
          ':ts': n(event.timestamp),
          ':now': n(now),
          ':claimExpiresAt': n(now + this.claimTtlMs),
          // TTL (seconds) only while a claim is open; completion removes it.
          ':abandonedAt': n(Math.floor((now + ABANDONED_CLAIM_RETENTION_MS) / 1000)),
        },
        ReturnValues: 'ALL_NEW',
        // DynamoDB then returns the refusing record with the error; dynalite does not, so it is read below.
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return { claimed: true, state: toState(result.Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { claimed: false, state: toState(error.Item ?? (await this.#getItem(key))) };
    }
  }

  async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now = Date.now()): Promise<void> {
    const values: Record<string, AttributeValue> = {
      ':eventId': s(event.webhookEventId),
      ':ts': n(event.timestamp),
      ':subscription': s(change.subscription),
      ':now': n(now),
    };
    let set = 'lastEventTs = :ts, lastEventId = :eventId, subscription = :subscription, updatedAt = :now';
    if (change.customerId !== undefined) {
      set += ', customerId = :customerId';
      values[':customerId'] = n(change.customerId);
    }
    try {
      await this.client.send(new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: s(UserSyncStore.partitionKey(key)) },
        UpdateExpression: `SET ${set} REMOVE claimEventId, claimTs, claimExpiresAt, expiresAt`,
        ConditionExpression: 'claimEventId = :eventId',
        ExpressionAttributeValues: values,
      }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ClaimLostError(event.webhookEventId, { cause: error });
      throw error;
    }
  }

  async read(key: LineUserKey): Promise<UserSyncState | undefined> {
    const item = await this.#getItem(key);
    return item ? toState(item) : undefined;
  }

  async #getItem(key: LineUserKey): Promise<Record<string, AttributeValue> | undefined> {
    const result = await this.client.send(new GetItemCommand({
      TableName: this.tableName,
      Key: { pk: s(UserSyncStore.partitionKey(key)) },
      ConsistentRead: true,
    }));
    return result.Item;
  }
}
