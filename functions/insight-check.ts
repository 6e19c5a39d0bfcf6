import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readInsightCheckConfig } from '../lib/config/backfill-config';
import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { LineFollowersClient } from '../lib/line/follower-pages';
import { withTelemetry } from '../lib/observability/telemetry';
import { runInsightCheck } from '../lib/reconcile/insight-check';

/** Built on a container's first run: the configuration (the channel token from SSM) and the clients. */
const deps = onceAsync(async () => {
  const config = await readInsightCheckConfig(process.env, ssmSecret);
  const followers = new LineFollowersClient({ channelAccessToken: config.line.channelAccessToken, baseUrl: config.line.apiBaseUrl, timeoutMs: config.line.timeoutMs, maxAttempts: 3 });
  return { followers, dynamo: new DynamoDBClient({ cacheMiddleware: true }), tableName: config.tableName, destination: config.destination ?? (await followers.botUserId()) };
});

export const handler = withTelemetry(async (_event: unknown, _context: { awsRequestId: string }) => runInsightCheck(await deps()));
