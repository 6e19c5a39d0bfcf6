/**
 * The backfill job's own queue (standard SQS): one message = "run the job for one invocation". A running
 * invocation sends the next one before it ends; a crashed one is retried by SQS from the job's checkpoint.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

import { isRecord } from '../is-record';
import { InvalidBackfillTickError } from './errors';

export interface BackfillTickMessage {
  channel: string;
  jobId: string;
}

export async function sendBackfillTick(
  sqs: SQSClient,
  queueUrl: string,
  tick: BackfillTickMessage,
  delaySeconds = 0,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(tick),
      DelaySeconds: Math.min(900, delaySeconds),
    }),
  );
}

export function parseBackfillTick(body: string): BackfillTickMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidBackfillTickError('not JSON', { cause: error });
  }
  if (!isRecord(parsed) || typeof parsed.channel !== 'string' || typeof parsed.jobId !== 'string') {
    throw new InvalidBackfillTickError('channel or jobId missing');
  }
  return { channel: parsed.channel, jobId: parsed.jobId };
}
