import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

import { onceAsync } from '../config/once-per-container';
import { logger } from '../observability/telemetry';
import { parseBackfillTick, sendBackfillTick } from '../queue/backfill-ticks';
import { runBackfillTick, type BackfillDeps } from './run-backfill';

/** Kept back from the Lambda timeout for the checkpoint and the next tick. */
const RESERVE_MS = 10_000;

export interface BackfillHandlerDeps {
  /** one channel's job clients (built once per container and channel) */
  forChannel(channel: string): Promise<BackfillDeps & { owner: string }>;
  sqs: SQSClient;
  tickQueueUrl: string;
}

/** Builds each channel's clients once, on its first tick (onceAsync per channel: a failed build is not kept). */
export function perChannel<T>(build: (channel: string) => Promise<T>): (channel: string) => Promise<T> {
  const built = new Map<string, () => Promise<T>>();
  return (channel) => {
    let once = built.get(channel);
    if (once === undefined) {
      once = onceAsync(() => build(channel));
      built.set(channel, once);
    }
    return once();
  };
}

/**
 * The backfill function's batch (batch size 1): run the tick's channel's job until the deadline, then
 * queue the next invocation. A throw leaves the tick on the queue, so SQS retries it from the checkpoint.
 */
export async function processBackfillTicks(
  event: SQSEvent,
  context: Context,
  deps: BackfillHandlerDeps,
): Promise<SQSBatchResponse> {
  for (const record of event.Records) {
    const tick = parseBackfillTick(record.body);
    const deadlineAt = Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS;
    const channel = await deps.forChannel(tick.channel);
    const result = await runBackfillTick(tick, channel, deadlineAt, `${channel.owner}:${record.messageId}`);
    if (result.next) await sendBackfillTick(deps.sqs, deps.tickQueueUrl, tick, result.delaySeconds);
    logger.info('Backfill invocation ended', { ...tick, ...result });
  }
  return { batchItemFailures: [] };
}
