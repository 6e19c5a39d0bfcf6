import type { Context, SQSEvent } from 'aws-lambda';

import { onceAsync, ssmSecret } from '../lib/config/once-per-container';
import { readWorkerConfig } from '../lib/config/worker-config';
import { eventOfKind } from '../lib/entry/event-shape';
import { withTelemetry } from '../lib/observability/telemetry';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../lib/worker/worker-deps';

/** Built on a container's first batch: the configuration (secrets from SSM) and the clients. */
const deps = onceAsync(async () => buildSyncDeps(await readWorkerConfig(process.env, ssmSecret)));

export const handler = withTelemetry(async (event: SQSEvent, context: Context) =>
  processSqsBatch(eventOfKind('worker', 'sqs', event), context, await deps()),
);
