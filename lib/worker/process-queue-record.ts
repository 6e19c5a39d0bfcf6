import type { SQSRecord } from 'aws-lambda';
import { MetricUnit, logger, metrics } from '../observability/telemetry';
import { parseQueuedEvent } from '../queue/line-event-message';
import { type SyncDeps, type SyncOutcome, syncLineEvent } from './sync-line-event';

/** The per-record function behind the worker handler: an SQS record in, one synced LINE event out. */
export async function processQueueRecord(record: SQSRecord, deps: SyncDeps): Promise<SyncOutcome> {
  try {
    return await syncLineEvent(parseQueuedEvent(record.body), deps);
  } catch (error) {
    // Reported in batchItemFailures: SQS retries it, and after maxReceiveCount it moves to the DLQ.
    metrics.addMetric('EventFailed', MetricUnit.Count, 1);
    logger.warn('Event failed; it will be retried', {
      messageId: record.messageId,
      receiveCount: Number(record.attributes.ApproximateReceiveCount),
      error: { name: (error as Error).name, message: (error as Error).message },
    });
    throw error;
  }
}
