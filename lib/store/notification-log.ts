import { createHash } from 'node:crypto';

import { GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Capillary notifications already applied, beside the user records under their own key prefix (the notifications
 * function's role may touch only these, see serverless.yml). Written once every affected user's event is queued, so
 * a later delivery (Capillary retries a timed-out one) is answered without queueing again. Capillary retries for at
 * least 7 days; the item outlives that by a day, then DynamoDB's TTL removes it.
 */
export const NOTIFICATION_KEY_PREFIX = 'notif#';

const RETENTION_MS = 8 * 24 * 3600 * 1000;

/** Hashed: the key may be as long as Capillary's ids make it, and it carries them. */
const pkOf = (capillaryOrg: string, key: string): AttributeValue => ({
  S: `${NOTIFICATION_KEY_PREFIX}${capillaryOrg}#${createHash('sha256').update(key).digest('base64url')}`,
});

export interface NotificationLog {
  seen(capillaryOrg: string, key: string): Promise<boolean>;
  remember(capillaryOrg: string, key: string, now: number): Promise<void>;
  /**
   * A PII deletion's time, kept for a merge whose notice comes after it: the deletion's notice finds no record naming
   * the merge survivor until that merge is applied (the worker reads it then, deletedAt).
   */
  rememberDeletion(capillaryOrg: string, customerId: number, deletedAt: number): Promise<void>;
}

/** What the worker reads of the log: when Capillary deleted a customer, if its notice came in the last days. */
export interface DeletionLog {
  deletedAt(capillaryOrg: string, customerId: number): Promise<number | undefined>;
}

const deletionKey = (customerId: number) => `deleted#${customerId}`;

export class DynamoNotificationLog implements NotificationLog, DeletionLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async seen(capillaryOrg: string, key: string): Promise<boolean> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: pkOf(capillaryOrg, key) }, ConsistentRead: true }),
    );
    return result.Item !== undefined;
  }

  async remember(capillaryOrg: string, key: string, now: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: pkOf(capillaryOrg, key),
          appliedAt: { N: String(now) },
          expiresAt: { N: String(Math.floor((now + RETENTION_MS) / 1000)) },
        },
      }),
    );
  }

  async rememberDeletion(capillaryOrg: string, customerId: number, deletedAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: pkOf(capillaryOrg, deletionKey(customerId)),
          deletedAt: { N: String(deletedAt) },
          expiresAt: { N: String(Math.floor((Date.now() + RETENTION_MS) / 1000)) },
        },
      }),
    );
  }

  async deletedAt(capillaryOrg: string, customerId: number): Promise<number | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: pkOf(capillaryOrg, deletionKey(customerId)) },
        ConsistentRead: true,
      }),
    );
    const value = result.Item?.deletedAt?.N;
    return value === undefined ? undefined : Number(value);
  }
}
