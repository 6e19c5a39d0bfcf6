import { SQSClient } from '@aws-sdk/client-sqs';

import { EnqueueError, EventTooLargeError, MAX_BATCH_BYTES } from '../../../lib/queue/errors';
import { enqueueBatches, MAX_BATCH_ENTRIES, toBatches, toEntries } from '../../../lib/queue/event-queue';
import { parseQueuedEvent, serializeQueuedEvent } from '../../../lib/queue/queued-event';
import { DESTINATION, followEvent, lineUserId, textMessageEvent } from '../../../local/line-event-factory';
import { startSqsRecorder, type FailurePlan, type SqsRecorder } from '../../support/sqs-recorder';

/** A text event whose queued message is exactly `bytes` long (each `a` of its text is one byte of it). */
function eventOfQueuedBytes(bytes: number) {
  const bare = textMessageEvent(lineUserId(), 1, '');
  const bareBytes = Buffer.byteLength(serializeQueuedEvent({ channel: 'th', destination: DESTINATION, event: bare }));
  return { ...bare, message: { ...(bare.message as object), text: 'a'.repeat(bytes - bareBytes) } };
}

describe('toEntries', () => {
  it('makes one entry per event: its queued message, FIFO group and dedup id, sized in bytes', () => {
    // Prepare
    const userId = lineUserId();
    const event = textMessageEvent(userId, 1, 'こんにちは');
    // Act
    const [entry, ...rest] = toEntries('th', DESTINATION, [event]);
    // Assess
    expect(rest).toEqual([]);
    expect(entry!.entry).toEqual({
      Id: '0',
      MessageBody: serializeQueuedEvent({ channel: 'th', destination: DESTINATION, event }),
      MessageGroupId: `${DESTINATION}:${userId}`,
      MessageDeduplicationId: event.webhookEventId,
    });
    expect(parseQueuedEvent(entry!.entry.MessageBody!)).toEqual({ channel: 'th', destination: DESTINATION, event });
    expect(entry!.bytes).toBe(Buffer.byteLength(entry!.entry.MessageBody!));
  });

  it('sizes an event as SQS stores it: the limit passes, a byte more does not, an escaped character counts six', () => {
    expect(toEntries('th', DESTINATION, [eventOfQueuedBytes(MAX_BATCH_BYTES)])[0]!.bytes).toBe(MAX_BATCH_BYTES);
    expect(() => toEntries('th', DESTINATION, [eventOfQueuedBytes(MAX_BATCH_BYTES + 1)])).toThrow(EventTooLargeError);
    // 87 KB of UTF-8 in LINE's body, queued as \u00e9 each: over 256 KiB
    const escaped = textMessageEvent(lineUserId(), 1, 'é'.repeat(Math.ceil(MAX_BATCH_BYTES / 6)));
    expect(() => toEntries('th', DESTINATION, [escaped])).toThrow(EventTooLargeError);
  });
});

describe('toBatches', () => {
  it('fills batches up to 10 entries', () => {
    const entries = toEntries(
      'th',
      DESTINATION,
      Array.from({ length: 21 }, () => followEvent(lineUserId(), 1)),
    );
    expect(toBatches(entries).map((batch) => batch.length)).toEqual([MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES, 1]);
  });

  it('starts a new batch before the byte limit is passed', () => {
    const entries = toEntries('th', DESTINATION, [
      eventOfQueuedBytes(MAX_BATCH_BYTES / 2),
      eventOfQueuedBytes(MAX_BATCH_BYTES / 2),
      followEvent(lineUserId(), 1),
    ]);
    expect(toBatches(entries).map((batch) => batch.map((entry) => entry.Id))).toEqual([['0', '1'], ['2']]);
  });
});

describe('enqueueBatches against a recording SQS endpoint', () => {
  let recorder: SqsRecorder;
  let sqs: SQSClient;
  const start = async (plan: FailurePlan) => {
    recorder = await startSqsRecorder(plan);
    sqs = new SQSClient({ endpoint: recorder.endpoint, maxAttempts: 1 });
  };
  const queueUrl = () => `${recorder.endpoint}/000000000000/q.fifo`;
  const batchesOf = (count: number) =>
    toBatches(
      toEntries(
        'th',
        DESTINATION,
        Array.from({ length: count }, (_, i) => followEvent(lineUserId(), i + 1)),
      ),
    );
  const options = { maxAttempts: 3, retryDelayMs: 1 };
  afterEach(async () => {
    sqs.destroy();
    await recorder.close();
  });

  it('sends each batch once when SQS takes every entry', async () => {
    await start(() => []);
    await enqueueBatches(sqs, queueUrl(), batchesOf(12), options);
    expect(recorder.calls.map((entries) => entries.length).sort()).toEqual([10, 2]);
    expect(recorder.accepted).toHaveLength(12);
  });

  it('sends again only the entries SQS rejected, until it takes them', async () => {
    await start((call) => (call === 1 ? ['1', '3'] : call === 2 ? ['3'] : []));
    const batches = batchesOf(4);

    await enqueueBatches(sqs, queueUrl(), batches, options);

    expect(recorder.calls.map((entries) => entries.map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3'],
      ['1', '3'],
      ['3'],
    ]);
    expect(recorder.accepted.map((e) => e.Id).sort()).toEqual(['0', '1', '2', '3']);
  });

  it('throws EnqueueError naming the events SQS still rejects after the last attempt', async () => {
    await start((_call, entries) => entries.filter((e) => e.Id === '0').map((e) => e.Id));
    const [batch] = batchesOf(2);

    const failure = enqueueBatches(sqs, queueUrl(), [batch!], { maxAttempts: 2, retryDelayMs: 1 });

    await expect(failure).rejects.toBeInstanceOf(EnqueueError);
    await expect(failure).rejects.toMatchObject({
      failedEventIds: [batch![0]!.MessageDeduplicationId],
      message: '1 event(s) could not be enqueued: InternalError: injected',
    });
    expect(recorder.calls).toHaveLength(2);
  });

  it('makes one call and no retry when only one attempt is allowed', async () => {
    await start(() => ['0']);
    const [batch] = batchesOf(2);

    const failure = enqueueBatches(sqs, queueUrl(), [batch!], { maxAttempts: 1, retryDelayMs: 1 });

    await expect(failure).rejects.toMatchObject({ failedEventIds: [batch![0]!.MessageDeduplicationId] });
    expect(recorder.calls).toHaveLength(1);
  });

  it('retries every entry of a call that failed as a whole, and names its error', async () => {
    await start(() => []);
    const unreachable = new SQSClient({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const send = jest.spyOn(unreachable, 'send');
    const batches = batchesOf(2);
    try {
      const failure = enqueueBatches(unreachable, 'http://127.0.0.1:1/000000000000/q.fifo', batches, options);
      await expect(failure).rejects.toMatchObject({
        name: 'EnqueueError',
        failedEventIds: batches[0]!.map((entry) => entry.MessageDeduplicationId),
        cause: expect.any(Error),
      });
      expect(send).toHaveBeenCalledTimes(options.maxAttempts);
    } finally {
      unreachable.destroy();
    }
  });
});
