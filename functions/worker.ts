import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { withTelemetry } from '../lib/observability/telemetry';
import { processQueueRecord } from '../lib/worker/process-queue-record';
import { workerRuntime } from '../lib/worker/worker-runtime';

// FIFO: records run in order; a failure fails the rest of its own message group only.
const processor = new SqsFifoPartialProcessorAsync();
const processRecord = async (record: SQSRecord) => processQueueRecord(record, await workerRuntime());

export const handler = withTelemetry(async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, processRecord, processor, { context, skipGroupOnError: true, throwOnFullBatchFailure: false }));
