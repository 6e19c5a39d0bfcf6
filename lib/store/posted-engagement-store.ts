import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import { n, s } from './user-sync-record';

/** How long a posted event is remembered: longer than any SQS retry, redrive or LINE redelivery of it. */
const REMEMBERED_FOR_MS = 7 * 24 * 3600 * 1000;

/** The engagement events already posted to Capillary, by bot and LINE webhookEventId (docs/engagement.md#once). */
export interface PostedEngagementStore {
  wasPosted(destination: string, webhookEventId: string): Promise<boolean>;
  /** After a successful post; remembering it twice (a retry after a crash) is harmless. */
  remember(destination: string, webhookEventId: string, now?: number): Promise<void>;
}

/** One item per posted event next to the user records (its key cannot be a LINE destination + user id), with a TTL. */
export class DynamoPostedEngagementStore implements PostedEngagementStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  static partitionKey(destination: string, webhookEventId: string): string {
    return `engaged#${destination}#${webhookEventId}`;
  }

  async wasPosted(destination: string, webhookEventId: string): Promise<boolean> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: s(DynamoPostedEngagementStore.partitionKey(destination, webhookEventId)) },
        ConsistentRead: true,
      }),
    );
    return result.Item !== undefined;
  }

  async remember(destination: string, webhookEventId: string, now = Date.now()): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: s(DynamoPostedEngagementStore.partitionKey(destination, webhookEventId)),
            postedAt: n(now),
            expiresAt: n(Math.floor((now + REMEMBERED_FOR_MS) / 1000)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
