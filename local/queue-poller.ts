/**
 * Lambda's SQS event source mapping, played locally for a FIFO queue: concurrent loops receive batches
 * of up to 10, invoke the real worker handler with real SQS event records, and delete only the records
 * the handler did not report in batchItemFailures. Everything else is left alone, so it reappears after
 * the visibility timeout with a higher receive count, and the queue's redrive policy moves it to the
 * DLQ after maxReceiveCount receives — SQS itself does that, not this poller.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

import { toSqsEvent, toSqsRecord } from './lambda-events';

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface SettledBatch {
  records: SQSRecord[];
  /** message ids left on the queue for a retry */
  failedMessageIds: Set<string>;
  /** set when the handler threw: the whole batch is retried, as Lambda does */
  handlerError?: Error;
  durationMs: number;
}

export interface QueuePollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsBatchHandler;
  /** a fresh Lambda context per invocation */
  context: () => Context;
  /** receive loops running at once, like the mapping's maximumConcurrency */
  concurrency: number;
  /** long-poll wait per receive; also the longest stop() waits for an idle loop */
  waitTimeSeconds: number;
  /** per-receive VisibilityTimeout; undefined keeps the queue's own */
  visibilityTimeoutSeconds?: number;
  /** before the handler runs */
  onBatchReceived?: (records: SQSRecord[]) => void;
  onBatchSettled?: (batch: SettledBatch) => void;
  /** a receive or delete call failed; the loop carries on after a pause */
  onPollError?: (error: Error) => void;
}

export interface PollerCounters {
  /** messages handed to the handler, every receive counted */
  received: number;
  deleted: number;
  /** messages left for a retry (reported failed, or in a batch whose handler threw) */
  failed: number;
  invocations: number;
}

export interface QueueDepth {
  visible: number;
  notVisible: number;
  delayed: number;
}

export interface QueuePoller {
  counters(): PollerCounters;
  /** batches handed to the handler and not yet settled */
  inFlight(): number;
  /** the queue holds no message (visible, in flight or delayed) and no batch is being handled */
  isDrained(): Promise<boolean>;
  /** ends every loop after its current receive and batch */
  stop(): Promise<void>;
}

const BATCH_SIZE = 10;
const PAUSE_AFTER_ERROR_MS = 1000;

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    notVisible: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export const totalOf = (depth: QueueDepth): number => depth.visible + depth.notVisible + depth.delayed;

/** Lambda fails the whole batch when an itemIdentifier is empty or names no record of the batch. */
function failedMessageIdsOf(records: SQSRecord[], response: SQSBatchResponse | undefined): Set<string> {
  const all = new Set(records.map((record) => record.messageId));
  const failures = response?.batchItemFailures ?? [];
  if (failures.some(({ itemIdentifier }) => !all.has(itemIdentifier))) return all;
  return new Set(failures.map(({ itemIdentifier }) => itemIdentifier));
}

export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { sqs, queueUrl } = options;
  const counters: PollerCounters = { received: 0, deleted: 0, failed: 0, invocations: 0 };
  let inFlight = 0;
  let stopping = false;
  const reportError = (error: unknown) =>
    options.onPollError?.(error instanceof Error ? error : new Error(String(error)));

  /** A message whose delete fails comes back after the visibility timeout; the worker then skips it as a duplicate. */
  async function deleteMessages(records: SQSRecord[]): Promise<void> {
    try {
      const result = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      counters.deleted += result.Successful?.length ?? 0;
      if (result.Failed?.length)
        reportError(
          new Error(
            `DeleteMessageBatch failed for ${result.Failed.length} message(s): ${result.Failed[0]?.Message ?? ''}`,
          ),
        );
    } catch (error) {
      reportError(error);
    }
  }

  async function invoke(records: SQSRecord[]): Promise<void> {
    options.onBatchReceived?.(records);
    const started = Date.now();
    counters.invocations += 1;
    counters.received += records.length;
    let failedMessageIds: Set<string>;
    let handlerError: Error | undefined;
    try {
      failedMessageIds = failedMessageIdsOf(records, await options.handler(toSqsEvent(records), options.context()));
    } catch (error) {
      handlerError = error instanceof Error ? error : new Error(String(error));
      failedMessageIds = new Set(records.map((record) => record.messageId));
    }
    const succeeded = records.filter((record) => !failedMessageIds.has(record.messageId));
    if (succeeded.length > 0) await deleteMessages(succeeded);
    counters.failed += failedMessageIds.size;
    options.onBatchSettled?.({ records, failedMessageIds, handlerError, durationMs: Date.now() - started });
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        const { Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: BATCH_SIZE,
            WaitTimeSeconds: options.waitTimeSeconds,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            // Both spellings: MessageGroupId and ApproximateReceiveCount are needed by the FIFO batch processor.
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (messages.length === 0) continue;
        inFlight += 1;
        try {
          await invoke(messages.map((message) => toSqsRecord(message, options.queueArn)));
        } finally {
          inFlight -= 1;
        }
      } catch (error) {
        reportError(error);
        if (!stopping) await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_ERROR_MS));
      }
    }
  }

  const loops = Array.from({ length: options.concurrency }, () => loop());

  return {
    counters: () => ({ ...counters }),
    inFlight: () => inFlight,
    async isDrained() {
      if (inFlight > 0) return false;
      // A batch received meanwhile still counts as not visible until its messages are deleted.
      return totalOf(await queueDepth(sqs, queueUrl)) === 0;
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** The pollers of one function's event sources (the events and the engagement queue) as one: counted, drained, stopped together. */
export function pollersTogether(pollers: readonly QueuePoller[]): QueuePoller {
  return {
    counters: () =>
      pollers
        .map((poller) => poller.counters())
        .reduce((sum, counters) => ({
          received: sum.received + counters.received,
          deleted: sum.deleted + counters.deleted,
          failed: sum.failed + counters.failed,
          invocations: sum.invocations + counters.invocations,
        })),
    inFlight: () => pollers.reduce((sum, poller) => sum + poller.inFlight(), 0),
    isDrained: async () => (await Promise.all(pollers.map((poller) => poller.isDrained()))).every(Boolean),
    stop: async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
  };
}

/** The queues' depths added up. */
export async function depthOfQueues(sqs: SQSClient, queueUrls: readonly string[]): Promise<QueueDepth> {
  const depths = await Promise.all(queueUrls.map((queueUrl) => queueDepth(sqs, queueUrl)));
  return depths.reduce((sum, depth) => ({
    visible: sum.visible + depth.visible,
    notVisible: sum.notVisible + depth.notVisible,
    delayed: sum.delayed + depth.delayed,
  }));
}
