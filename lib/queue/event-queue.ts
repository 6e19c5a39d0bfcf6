import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';

import type { LineWebhookEvent } from '../line/callback';
import { exponentialDelay, withRetries } from '../retry/with-retries';
import {
  EnqueueError,
  EventNestingTooDeepError,
  EventTooLargeError,
  MAX_BATCH_BYTES,
  type EnqueueFailure,
} from './errors';
import { messageGroupId, serializeQueuedEvent } from './queued-event';
import { sendFailureReason } from './send-failure';

/** SQS limit of entries in one SendMessageBatch call (the byte limit is MAX_BATCH_BYTES). */
export const MAX_BATCH_ENTRIES = 10;

interface SizedEntry {
  entry: SendMessageBatchRequestEntry;
  bytes: number;
}

/** One entry per event; the dedup id makes a LINE redelivery within SQS's 5-minute window a no-op. */
export function toEntries(channel: string, destination: string, events: LineWebhookEvent[]): SizedEntry[] {
  return events.map((event, index) => {
    let body: string;
    try {
      body = serializeQueuedEvent({ channel, destination, event });
    } catch (error) {
      if (error instanceof RangeError) throw new EventNestingTooDeepError(event.webhookEventId, { cause: error });
      throw error;
    }
    const bytes = body.length; // ASCII only (serializeQueuedEvent escapes the rest): one byte per character
    if (bytes > MAX_BATCH_BYTES) throw new EventTooLargeError(event.webhookEventId, bytes);
    return {
      bytes,
      entry: {
        Id: String(index),
        MessageBody: body,
        MessageGroupId: messageGroupId(destination, event),
        MessageDeduplicationId: event.webhookEventId,
      },
    };
  });
}

/** Fills each batch up to 10 entries or the byte limit, whichever comes first: ⌈n/10⌉ calls for small events. */
export function toBatches(entries: SizedEntry[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let currentBytes = 0;
  for (const { entry, bytes } of entries) {
    if (current.length === MAX_BATCH_ENTRIES || currentBytes + bytes > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface EnqueueOptions {
  maxAttempts: number;
  retryDelayMs: number;
}

/**
 * Sends every batch in parallel and retries only the entries SQS did not accept. Resolves only when
 * every event is in the queue; otherwise throws, so the webhook answers non-2xx and LINE redelivers.
 */
export async function enqueueBatches(
  sqs: SQSClient,
  queueUrl: string,
  batches: SendMessageBatchRequestEntry[][],
  options: EnqueueOptions = { maxAttempts: 3, retryDelayMs: 50 },
): Promise<void> {
  // One batch (up to 10 events) is every LINE delivery but the largest: sent without the fan-out.
  const failures =
    batches.length === 1
      ? await sendWithRetries(sqs, queueUrl, batches[0] as SendMessageBatchRequestEntry[], options)
      : (await Promise.all(batches.map((batch) => sendWithRetries(sqs, queueUrl, batch, options)))).flat();
  if (failures.length > 0) throw new EnqueueError(failures);
}

/** A channel's events into their users' FIFO groups of one queue; nothing to send, no call. */
export async function enqueueEvents(
  sqs: SQSClient,
  queueUrl: string,
  channel: string,
  destination: string,
  events: LineWebhookEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await enqueueBatches(sqs, queueUrl, toBatches(toEntries(channel, destination, events)));
}

type EntryFailure = EnqueueFailure & { entry: SendMessageBatchRequestEntry };

const failureOf = (entry: SendMessageBatchRequestEntry, reason: string, cause?: unknown): EntryFailure => ({
  entry,
  eventId: entry.MessageDeduplicationId ?? entry.Id ?? '?',
  reason,
  cause,
});

async function sendWithRetries(
  sqs: SQSClient,
  queueUrl: string,
  batch: SendMessageBatchRequestEntry[],
  { maxAttempts, retryDelayMs }: EnqueueOptions,
): Promise<EntryFailure[]> {
  // Nearly every batch is taken whole by its first call: that call is made before (and without) the retry loop's layers.
  let failures = await sendOnce(sqs, queueUrl, batch);
  if (failures.length === 0) return failures;
  // The loop opens with that first attempt's outcome, so its pauses and attempts are what they would be without it.
  const outcome = await withRetries<EntryFailure[], EntryFailure[]>(
    { maxAttempts, delayMs: exponentialDelay(retryDelayMs) },
    async (attempt) => {
      if (attempt > 1)
        failures = await sendOnce(
          sqs,
          queueUrl,
          failures.map((failure) => failure.entry),
        );
      return failures.length === 0 ? { done: failures } : { failed: failures };
    },
  );
  return 'done' in outcome ? outcome.done : outcome.failed;
}

/** The entries SQS did not accept: those it rejected, or all of them when the call failed. */
async function sendOnce(
  sqs: SQSClient,
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
): Promise<EntryFailure[]> {
  try {
    const { Failed: failed = [] } = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    const byId = failed.length === 0 ? undefined : new Map(entries.map((entry) => [entry.Id, entry]));
    return failed.map((f) =>
      failureOf(byId?.get(f.Id) as SendMessageBatchRequestEntry, `${f.Code}: ${f.Message ?? ''}`.trim()),
    );
  } catch (error) {
    return entries.map((entry) => failureOf(entry, sendFailureReason(error), error));
  }
}
