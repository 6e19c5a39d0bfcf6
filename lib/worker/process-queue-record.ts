import { EventEmitter } from 'node:events';
import type { SQSRecord } from 'aws-lambda';
import { MetricUnit, logger, metrics } from '../observability/telemetry';
import { parseQueuedEvent } from '../queue/line-event-message';
import { type SyncDeps, type SyncOutcome, syncLineEvent } from './sync-line-event';

export interface RecordSettled {
  messageId: string;
  webhookEventId: string | undefined;
  receiveCount: number;
  outcome?: SyncOutcome;
  error?: { name: string; message: string };
}

/**
 * Every settled record is announced here. Lambda has no listener; the local pipeline and the test
 * suites listen to report what the worker did with each event without parsing logs.
 */
export const recordSettled = new EventEmitter<{ settled: [RecordSettled] }>();

/** The per-record function behind the worker handler: an SQS record in, one synced LINE event out. */
export async function processQueueRecord(record: SQSRecord, deps: SyncDeps): Promise<SyncOutcome> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount);
  let webhookEventId: string | undefined;
  try {
    const message = parseQueuedEvent(record.body);
    webhookEventId = message.event.webhookEventId;
    const outcome = await syncLineEvent(message, deps);
    recordSettled.emit('settled', { messageId: record.messageId, webhookEventId, receiveCount, outcome });
    return outcome;
  } catch (error) {
    const { name, message } = error as Error;
    // Reported in batchItemFailures: SQS retries it, and after maxReceiveCount it moves to the DLQ.
    metrics.addMetric('EventFailed', MetricUnit.Count, 1);
    logger.warn('Event failed; it will be retried', { messageId: record.messageId, eventId: webhookEventId, receiveCount, error: { name, message } });
    recordSettled.emit('settled', { messageId: record.messageId, webhookEventId, receiveCount, error: { name, message } });
    throw error;
  }
}
