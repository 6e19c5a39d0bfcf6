import { EventTooLargeError, MAX_BATCH_BYTES } from '../../../lib/queue/errors';
import { MAX_BATCH_ENTRIES, toBatches, toEntries } from '../../../lib/queue/event-queue';
import { parseQueuedEvent, serializeQueuedEvent } from '../../../lib/queue/queued-event';
import { DESTINATION, followEvent, lineUserId, textMessageEvent } from '../../../local/line-event-factory';

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
