/**
 * The customer → users index: which LINE users' records name a Capillary customer, as their customer
 * (`customerKey`, GSI `byCustomer`), as their linked member (`memberKey`, GSI `byMember`) or as the customer deleted on a
 * PII request that a follow replaced before the deletion's notice came (`replacedKey`, GSI `byReplaced`). The user store
 * writes both keys with the ids (and removes them with the ids), so DynamoDB keeps the index with every write:
 * no extra writes, no stale entries. It is eventually consistent: whoever acts on a user found here re-reads
 * the record (the worker's claim) and re-checks that it still names the customer.
 */
import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../config/channels';
import type { AppliedChange, LineUserKey } from './user-sync-store';

/** The GSIs of the user table (serverless.yml UsersTable), each keyed by `<capillaryOrg>#<customerId>`. */
export const CUSTOMER_INDEXES = {
  byCustomer: 'customerKey',
  byMember: 'memberKey',
  byReplaced: 'replacedKey',
} as const;

/** Customer ids are per Capillary org: the bridge's org id (config capillaryOrg) scopes them. */
export const customerIndexKey = (capillaryOrg: string, customerId: number): string => `${capillaryOrg}#${customerId}`;

/** A LINE user whose record named the customer when the index was last updated. */
export interface IndexedUser {
  channel: string;
  destination: string;
  userId: string;
}

export interface CustomerIndex {
  /** Every user whose record names the customer as customer, as linked member or as a replaced one, each once. */
  usersOf(capillaryOrg: string, customerId: number): Promise<IndexedUser[]>;
}

const s = (value: string): AttributeValue => ({ S: value });

/** The attributes an applied change sets (a value) or removes (null) besides its own: index keys and marks. */
export function identityAttributes(
  key: LineUserKey,
  change: AppliedChange,
): Record<string, AttributeValue | null | undefined> {
  const org = key.owner?.capillaryOrg ?? DEFAULT_CAPILLARY_ORG_ID;
  const indexKey = (id: number | null | undefined) =>
    id === undefined || id === null ? id : s(customerIndexKey(org, id));
  const namesCustomer = [change.customerId, change.linkedCustomerId, change.replaced?.customerId].some(
    (id) => typeof id === 'number',
  );
  const linkRefs = change.linkRefs;
  const link = change.link === null ? null : undefined;
  return {
    customerKey: indexKey(change.customerId),
    memberKey: indexKey(change.linkedCustomerId),
    replacedKey: indexKey(change.replaced === null ? null : change.replaced?.customerId),
    // The channel comes back with the index entry: the notifications function queues into that channel's group.
    channel: key.owner && namesCustomer ? s(key.owner.channel) : undefined,
    linkStatus: link,
    linkDetail: link,
    linkAt: link,
    linkRefs: linkRefs === undefined ? undefined : linkRefs !== null && linkRefs.length > 0 ? { SS: linkRefs } : null,
    forgotten: change.forgottenAt === undefined ? undefined : change.forgottenAt === null ? null : { BOOL: true },
    forgottenAt:
      change.forgottenAt === undefined || change.forgottenAt === null
        ? change.forgottenAt
        : { N: String(change.forgottenAt) },
  };
}

/** `<destination>#<userId>` (UserSyncStore.partitionKey): user ids and bot ids never contain `#`. */
function userOf(item: Record<string, AttributeValue>): IndexedUser | undefined {
  const [destination, userId, ...rest] = (item.pk?.S ?? '').split('#');
  if (!destination || !userId || rest.length > 0) return undefined;
  return { channel: item.channel?.S ?? DEFAULT_CHANNEL_ID, destination, userId };
}

export class DynamoCustomerIndex implements CustomerIndex {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async usersOf(capillaryOrg: string, customerId: number): Promise<IndexedUser[]> {
    const value = customerIndexKey(capillaryOrg, customerId);
    const found = await Promise.all(
      Object.entries(CUSTOMER_INDEXES).map(([indexName, attribute]) => this.#query(indexName, attribute, value)),
    );
    const byPk = new Map<string, IndexedUser>();
    for (const item of found.flat()) {
      const user = userOf(item);
      if (user) byPk.set(item.pk?.S as string, user);
    }
    return [...byPk.values()];
  }

  async #query(indexName: string, attribute: string, value: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: '#key = :value',
          ExpressionAttributeNames: { '#key': attribute },
          ExpressionAttributeValues: { ':value': s(value) },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }
}
