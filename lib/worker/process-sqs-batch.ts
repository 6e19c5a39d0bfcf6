import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processQueueRecord } from './process-queue-record';
import type { SyncDeps } from './sync-line-event';

/** Kept back from the Lambda timeout so the last record can still record its result or fail cleanly. */
const RESERVE_MS = 2000;

export async function processSqsBatch(event: SQSEvent, context: Context, deps: SyncDeps): Promise<SQSBatchResponse> {
  deps.deadline.start(context.getRemainingTimeInMillis(), RESERVE_MS);
  // FIFO: records run in order; a failure fails the rest of its own message group only. One processor per batch:
  // it holds the batch's state, and the local poller runs several batches at once in one process.
  return processPartialResponse(event, (record: SQSRecord) => processQueueRecord(record, deps), new SqsFifoPartialProcessorAsync(), {
    context,
    skipGroupOnError: true,
    throwOnFullBatchFailure: false,
  });
}
