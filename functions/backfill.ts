import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';

import { buildBackfillDeps } from '../lib/backfill/backfill-deps';
import { perChannel, processBackfillTicks } from '../lib/backfill/process-backfill-ticks';
import { readBackfillConfig } from '../lib/config/backfill-config';
import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { eventOfKind } from '../lib/entry/event-shape';
import { withTelemetry } from '../lib/observability/telemetry';
import { createSqsClient } from '../lib/queue/sqs-client';

/** Built on a container's first tick: the configuration (secrets from SSM), the clients, and per channel its job's clients. */
const deps = onceAsync(async () => {
  const config = await readBackfillConfig(process.env, ssmSecret);
  const clients = { dynamo: new DynamoDBClient({ cacheMiddleware: true }), sqs: createSqsClient() };
  return {
    forChannel: perChannel((channel) => buildBackfillDeps(config, clients, channel)),
    sqs: clients.sqs,
    tickQueueUrl: config.tickQueueUrl,
  };
});

export const handler = withTelemetry(async (event: SQSEvent, context: Context) =>
  processBackfillTicks(eventOfKind('backfill', 'sqs', event), context, await deps()),
);
