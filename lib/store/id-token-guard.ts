import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { hashOf } from './link-nonce-store';

/**
 * An ID token links once: the first use of a verified token is remembered (its hash, under `idtoken#`,
 * one of the link items) until the token's `exp`, when DynamoDB's TTL removes it; a replay is refused.
 */
export class IdTokenGuard {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** True the first time, false for a replay; one conditional put. */
  async useOnce(idToken: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: `idtoken#${hashOf(idToken)}` }, expiresAt: { N: String(Math.ceil(expiresAt / 1000)) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
