import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

import { registeringInBulk } from './bulk/register-in-bulk';
import { handleQueuedEvent, type WorkerDeps } from './handle-queued-event';
import { inMessageGroupOrder } from './message-groups';

/** Kept back from the Lambda timeout so the last record can still record its result or fail cleanly. */
const RESERVE_MS = 2000;

/**
 * The worker's batch: each SQS record is one queued LINE event, handled once and in order. FIFO: the
 * records of one message group (one user) run in order, other groups' records at the same time, and a
 * failure fails the rest of its own group only; failed records are reported in batchItemFailures, so
 * SQS retries them and after maxReceiveCount moves them to the DLQ. The batch's new followers are registered
 * together, in one bulk call per channel (lib/worker/bulk).
 */
export async function processSqsBatch(event: SQSEvent, context: Context, deps: WorkerDeps): Promise<SQSBatchResponse> {
  // Retrying past the invocation's end would only get it killed mid-call; stopping first reports failures cleanly.
  const deadlineAt = Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS;
  const handle = inMessageGroupOrder(
    event.Records,
    registeringInBulk(event.Records, deps, (record, recordDeps) => handleQueuedEvent(record, recordDeps, deadlineAt)),
  );
  // One processor per batch: it holds the batch's state, and the local poller runs several batches at once.
  return processPartialResponse(event, handle, new BatchProcessor(EventType.SQS), {
    context,
    processInParallel: true,
    throwOnFullBatchFailure: false,
  });
}
