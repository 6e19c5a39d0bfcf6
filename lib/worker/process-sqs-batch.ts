import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processQueueRecord } from './process-queue-record';
import type { SyncDeps } from './sync-line-event';

// FIFO: records run in order; a failure fails the rest of its own message group only.
const processor = new SqsFifoPartialProcessorAsync();

export async function processSqsBatch(event: SQSEvent, context: Context, deps: SyncDeps): Promise<SQSBatchResponse> {
  return processPartialResponse(event, (record: SQSRecord) => processQueueRecord(record, deps), processor, {
    context,
    skipGroupOnError: true,
    throwOnFullBatchFailure: false,
  });
}
