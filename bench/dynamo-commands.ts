import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { isRateBucketKey } from '../lib/store/shared-rate-limiter';
import { countCommands } from '../local/rigs/aws-kit';

/** The rate limiter's DynamoDB commands, counted apart from the user records' (e.g. "UpdateItemCommand:limiter"). */
export const LIMITER_SUFFIX = ':limiter';

/** Counts a client's DynamoDB commands by name, the shared rate limiter's under their own label. */
export function countDynamoCommands(client: DynamoDBClient): Map<string, number> {
  return countCommands(client, (name, input) => {
    const pk = (input as { Key?: { pk?: { S?: string } } } | undefined)?.Key?.pk?.S;
    return isRateBucketKey(pk) ? `${name}${LIMITER_SUFFIX}` : name;
  });
}
