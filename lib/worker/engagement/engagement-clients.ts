import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { BehaviouralEventsClient } from '../../capillary/behavioural-events-client';
import { slotPlan } from '../../capillary/rate-limiter';
import type { EngagementSettings } from '../../config/engagement-config';
import { rateBucketKey, SharedRateLimiter } from '../../store/shared-rate-limiter';
import type { EngagementChannel } from './post-engagement';

/**
 * Each channel's rules and behavioural-events client (undefined: the channel maps no engagement). Every client takes
 * its tokens from the ingest URL's own bucket, shared by every instance: a flood of taps never takes a follow's budget.
 */
export function engagementClients(
  settings: EngagementSettings | undefined,
  { dynamo, tableName }: { dynamo: DynamoDBClient; tableName: string },
  { timeoutMs, maxAttempts }: { timeoutMs: number; maxAttempts: number },
): (channel: string) => EngagementChannel['engagement'] {
  const posting = settings?.posting;
  if (settings === undefined || posting === undefined) return () => undefined;
  const { url, credentials } = posting;
  const limiter = new SharedRateLimiter({
    client: dynamo,
    tableName,
    bucketKey: rateBucketKey(url, credentials.split(':')[0] ?? ''),
    plan: slotPlan(posting.rateLimitPerMinute),
  });
  return (channel) => {
    const rules = settings.rulesByChannel.get(channel) ?? [];
    if (rules.length === 0) return undefined;
    const client = new BehaviouralEventsClient({ url, credentials, timeoutMs, maxAttempts, limiter, channel });
    return { rules, client, posting };
  };
}
