import type { Context, SQSEvent } from 'aws-lambda';
import { withTelemetry } from '../lib/observability/telemetry';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { workerRuntime } from '../lib/worker/worker-runtime';

export const handler = withTelemetry(async (event: SQSEvent, context: Context) => processSqsBatch(event, context, await workerRuntime()));
