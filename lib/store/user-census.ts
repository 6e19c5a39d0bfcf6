/**
 * Reads every user record of one bot from the users table (a paginated Scan): for the daily insight check
 * (how many are opted in) and the drift check (who is in which state). The job items are skipped.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { UserSyncState } from '../domain/sync-rules';
import { toState } from './user-sync-store';

export interface CensusRecord {
  userId: string;
  state: UserSyncState;
}

export async function* scanUserRecords(
  client: DynamoDBClient,
  tableName: string,
  destination: string,
): AsyncGenerator<CensusRecord> {
  const prefix = `${destination}#`;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': { S: prefix } },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? [])
      yield { userId: (item.pk?.S ?? '').slice(prefix.length), state: toState(item) };
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

export async function countOptedIn(client: DynamoDBClient, tableName: string, destination: string): Promise<number> {
  let optedIn = 0;
  for await (const { state } of scanUserRecords(client, tableName, destination))
    if (state.subscription === 'OPTIN') optedIn += 1;
  return optedIn;
}
