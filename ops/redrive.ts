/**
 * Moves the events parked in the dead-letter queue back to the events queue once their cause is fixed.
 * SQS's own message move task is used when the server offers it; otherwise (local SQS servers, or on
 * request) messages are copied: receive → send with the same group and deduplication ids → delete.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export type RedriveMode = 'auto' | 'task' | 'copy';

export interface RedriveOptions {
  dlqUrl: string;
  queueUrl: string;
  /** auto (default): a message move task if the server supports it, else copy */
  mode?: RedriveMode;
  /** copy mode only: stop after this many messages (a move task always moves everything) */
  maxMessages?: number;
  /** move task progress polling interval */
  pollIntervalMs?: number;
  /** injectable clock for the deduplication-window check */
  now?: () => number;
}

export interface RedriveResult {
  mode: 'task' | 'copy';
  moved: number;
  /** copy mode: messages a send or delete failed for; they stay in (or return to) the DLQ */
  failed: number;
  /** copy mode: messages left in the DLQ because the events queue would still deduplicate them */
  deferred: number;
  /** copy mode: the bodies moved, in order (a move task does not say which messages it moved), to follow them up */
  movedBodies: string[];
  /** copy mode, when some were deferred: from this time (ms) the events queue no longer deduplicates any of them */
  retryAfter?: number;
}

/**
 * FIFO queues drop a message whose deduplication id was sent in the last 5 minutes. Copying such a
 * message back (same id) would delete it from the DLQ while the events queue silently discards it.
 */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/** Error names SQS-compatible servers give an action they do not implement. */
const UNSUPPORTED_ACTION_ERRORS = new Set(['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException']);

const COPY_VISIBILITY_TIMEOUT_SECONDS = 60;

export async function redrive(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const mode = options.mode ?? 'auto';
  if (options.maxMessages !== undefined && mode === 'task') {
    throw new Error('a message move task cannot stop after maxMessages; use copy mode');
  }
  if (mode === 'copy' || options.maxMessages !== undefined) return copyMessages(sqs, options);
  try {
    return await runMoveTask(sqs, options);
  } catch (error) {
    if (mode === 'auto' && UNSUPPORTED_ACTION_ERRORS.has((error as Error).name)) return copyMessages(sqs, options);
    throw error;
  }
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  if (!Attributes?.QueueArn) throw new Error(`no QueueArn for ${queueUrl}`);
  return Attributes.QueueArn;
}

async function runMoveTask(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const [sourceArn, destinationArn] = await Promise.all([
    queueArnOf(sqs, options.dlqUrl),
    queueArnOf(sqs, options.queueUrl),
  ]);
  const { TaskHandle } = await sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
  );
  for (;;) {
    await sleep(options.pollIntervalMs ?? 2000);
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    // Only a running task reports its handle; the newest result is ours once it has finished.
    const task = Results.find((result) => result.TaskHandle === TaskHandle) ?? Results[0];
    if (task?.Status === 'RUNNING') continue;
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (task?.Status === 'FAILED')
      throw new Error(`message move task failed after moving ${moved}: ${task.FailureReason ?? 'no reason given'}`);
    return { mode: 'task', moved, failed: 0, deferred: 0, movedBodies: [] };
  }
}

/**
 * Makes the deferred messages visible again at once (after the run: within it they would be received again), so the
 * next run finds them instead of waiting out the copy's visibility timeout.
 */
async function releaseDeferred(sqs: SQSClient, dlqUrl: string, receiptHandles: Map<string, string>): Promise<void> {
  const entries = [...receiptHandles.values()].map((ReceiptHandle, index) => ({
    Id: String(index),
    ReceiptHandle,
    VisibilityTimeout: 0,
  }));
  for (let start = 0; start < entries.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: entries.slice(start, start + 10) }),
    );
  }
}

async function copyMessages(sqs: SQSClient, options: RedriveOptions): Promise<RedriveResult> {
  const now = options.now ?? Date.now;
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const deferredIds = new Set<string>();
  const deferredHandles = new Map<string, string>();
  let retryAfter: number | undefined;
  const movedBodies: string[] = [];
  let moved = 0;
  let failed = 0;
  while (moved + failed < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - moved - failed),
        // Messages stay invisible while they are copied; FIFO also holds back the rest of their group meanwhile, so order is kept.
        VisibilityTimeout: COPY_VISIBILITY_TIMEOUT_SECONDS,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const ready: Message[] = [];
    for (const message of Messages) {
      const deduplicatedUntil = Number(message.Attributes?.SentTimestamp ?? 0) + DEDUPLICATION_WINDOW_MS;
      if (now() >= deduplicatedUntil) {
        ready.push(message);
        continue;
      }
      deferredIds.add(message.MessageId as string);
      deferredHandles.set(message.MessageId as string, message.ReceiptHandle as string);
      retryAfter = Math.max(retryAfter ?? 0, deduplicatedUntil);
    }
    if (ready.length === 0) continue;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: ready.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body,
          MessageGroupId: message.Attributes?.MessageGroupId,
          MessageDeduplicationId: message.Attributes?.MessageDeduplicationId,
          MessageAttributes: message.MessageAttributes,
        })),
      }),
    );
    const sentIds = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const toDelete = ready.flatMap((message, index) =>
      sentIds.has(String(index)) ? [{ Id: String(index), ReceiptHandle: message.ReceiptHandle }] : [],
    );
    const deleted =
      toDelete.length === 0
        ? { Successful: [] }
        : await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: options.dlqUrl, Entries: toDelete }));
    const movedNow = deleted.Successful?.length ?? 0;
    const deletedIds = new Set((deleted.Successful ?? []).map((entry) => entry.Id));
    movedBodies.push(...ready.flatMap((message, index) => (deletedIds.has(String(index)) ? [message.Body ?? ''] : [])));
    moved += movedNow;
    failed += ready.length - movedNow;
  }
  await releaseDeferred(sqs, options.dlqUrl, deferredHandles);
  return {
    mode: 'copy',
    moved,
    failed,
    deferred: deferredIds.size,
    movedBodies,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
}
