import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../observability/telemetry';
import { parseBackfillTick, sendBackfillTick } from '../queue/backfill-ticks';
import { type BackfillDeps, runBackfillTick } from './run-backfill';

/** Kept back from the Lambda timeout for the checkpoint and the next tick. */
const RESERVE_MS = 10_000;

export interface BackfillHandlerDeps extends BackfillDeps {
  owner: string;
  sqs: SQSClient;
  tickQueueUrl: string;
}

/**
 * The backfill function's batch (batch size 1): run the job until the deadline, then queue the next
 * invocation. A throw leaves the tick on the queue, so SQS retries it from the job's checkpoint.
 */
export async function processBackfillTicks(event: SQSEvent, context: Context, deps: BackfillHandlerDeps): Promise<SQSBatchResponse> {
  for (const record of event.Records) {
    const tick = parseBackfillTick(record.body);
    const deadlineAt = Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS;
    const result = await runBackfillTick(tick, deps, deadlineAt, `${deps.owner}:${record.messageId}`);
    if (result.next) await sendBackfillTick(deps.sqs, deps.tickQueueUrl, tick, result.delaySeconds);
    logger.info('Backfill invocation ended', { ...tick, ...result });
  }
  return { batchItemFailures: [] };
}
