import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { readInsightCheckConfig } from '../lib/config/insight-check-config';
import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { eventOfKind } from '../lib/entry/event-shape';
import { runInsightCheck } from '../lib/insight-check/insight-check';
import { LineFollowersClient } from '../lib/line/follower-pages';
import { withTelemetry } from '../lib/observability/telemetry';

/** Built on a container's first run: the configuration (the channels' tokens from SSM) and the clients. */
const deps = onceAsync(async () => {
  const config = await readInsightCheckConfig(process.env, ssmSecret);
  return { config, dynamo: new DynamoDBClient({ cacheMiddleware: true }) };
});

/** Every channel in turn; one channel's failure (LINE down for it) does not keep the others from their figure. */
export const handler = withTelemetry(async (event: unknown, _context: { awsRequestId: string }) => {
  eventOfKind('insightCheck', 'schedule', event);
  const { config, dynamo } = await deps();
  const results = await Promise.allSettled(
    config.channels.all.map(async (channel) => {
      const followers = new LineFollowersClient({
        channelAccessToken: channel.channelAccessToken,
        baseUrl: config.line.apiBaseUrl,
        timeoutMs: config.line.timeoutMs,
      });
      const destination = channel.destination ?? (await followers.botUserId());
      return runInsightCheck({ channel: channel.id, followers, dynamo, tableName: config.tableName, destination });
    }),
  );
  const failed = results.filter((result) => result.status === 'rejected');
  // A failed channel fails the invocation, so the function's Errors metric shows it; the others were published.
  if (failed.length > 0)
    throw new AggregateError(
      failed.map((result) => (result as PromiseRejectedResult).reason),
      `insight check failed for ${failed.length} channel(s)`,
    );
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value);
});
