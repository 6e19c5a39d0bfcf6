import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

import { countForChannel, logger, metrics, MetricUnit } from '../observability/telemetry';
import { parseQueuedEvent } from '../queue/queued-event';
import { inMessageGroupOrder } from './message-groups';
import { syncLineEvent, type SyncDeps, type SyncOutcome } from './sync-line-event';

/** What became of one delivery of a record: the local pipeline and the tests report it without parsing logs. */
export interface RecordSettled {
  messageId: string;
  webhookEventId: string | undefined;
  receiveCount: number;
  outcome?: SyncOutcome;
  error?: { name: string; message: string };
}

export interface WorkerDeps extends SyncDeps {
  /** Lambda passes none; the local pipeline, benchmark and tests listen here. */
  onSettled?: (settled: RecordSettled) => void;
}

/** Kept back from the Lambda timeout so the last record can still record its result or fail cleanly. */
const RESERVE_MS = 2000;

/**
 * The worker's batch: each SQS record is one queued LINE event, synced once and in order. FIFO: the
 * records of one message group (one user) run in order, other groups' records at the same time, and a
 * failure fails the rest of its own group only; failed records are reported in batchItemFailures, so
 * SQS retries them and after maxReceiveCount moves them to the DLQ.
 */
export async function processSqsBatch(event: SQSEvent, context: Context, deps: WorkerDeps): Promise<SQSBatchResponse> {
  // Retrying past the invocation's end would only get it killed mid-call; stopping first reports failures cleanly.
  const deadlineAt = Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS;
  const syncRecord = async (record: SQSRecord): Promise<SyncOutcome> => {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    let webhookEventId: string | undefined;
    let channel: string | undefined;
    try {
      const message = parseQueuedEvent(record.body);
      webhookEventId = message.event.webhookEventId;
      channel = message.channel;
      const outcome = await syncLineEvent(message, deps, deadlineAt);
      deps.onSettled?.({ messageId: record.messageId, webhookEventId, receiveCount, outcome });
      return outcome;
    } catch (error) {
      const { name, message } = error as Error;
      // A body that does not parse names no channel: it is counted in the total only.
      if (channel === undefined) metrics.addMetric('EventFailed', MetricUnit.Count, 1);
      else countForChannel('EventFailed', channel);
      logger.warn('Event failed; it will be retried', {
        channel,
        messageId: record.messageId,
        eventId: webhookEventId,
        receiveCount,
        error: { name, message },
      });
      deps.onSettled?.({ messageId: record.messageId, webhookEventId, receiveCount, error: { name, message } });
      throw error;
    }
  };
  // One processor per batch: it holds the batch's state, and the local poller runs several batches at once.
  return processPartialResponse(
    event,
    inMessageGroupOrder(event.Records, syncRecord),
    new BatchProcessor(EventType.SQS),
    {
      context,
      processInParallel: true,
      throwOnFullBatchFailure: false,
    },
  );
}
