import { InvalidQueuedEventError } from '../../../lib/queue/errors';
import { messageGroupId, parseQueuedEvent, serializeQueuedEvent } from '../../../lib/queue/queued-event';
import { DESTINATION, followEvent, lineUserId, textMessageEvent } from '../../../local/line-event-factory';

describe('serializeQueuedEvent', () => {
  it('round-trips an event with emoji and noncharacters as ASCII-only JSON', () => {
    // Prepare: U+FFFF is rejected by SQS when sent raw
    const event = textMessageEvent(lineUserId(), 1, 'Hello 👋 こんにちは \uffff');
    // Act
    const body = serializeQueuedEvent({ channel: 'th', destination: DESTINATION, event });
    // Assess
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    expect(parseQueuedEvent(body)).toEqual({ channel: 'th', destination: DESTINATION, event });
  });

  it.each([
    ['DEL, the one ASCII character it escapes', '\u007f', '\\u007f'],
    ['a Latin-1 character', 'é', '\\u00e9'],
  ])('escapes %s, and leaves an ASCII-only event as JSON.stringify writes it', (_what, text, escaped) => {
    const ascii = textMessageEvent(lineUserId(), 1, 'plain text');
    const event = textMessageEvent(lineUserId(), 1, `before ${text} after`);
    expect(serializeQueuedEvent({ channel: 'th', destination: DESTINATION, event: ascii })).toBe(
      JSON.stringify({ channel: 'th', destination: DESTINATION, event: ascii }),
    );
    expect(serializeQueuedEvent({ channel: 'th', destination: DESTINATION, event })).toContain(
      `before ${escaped} after`,
    );
  });
});

describe('parseQueuedEvent', () => {
  it.each([
    'not json',
    '{}',
    '{"destination":"U1","event":{"type":"follow"}}',
    '{"channel":7,"destination":"U1","event":{"type":"follow","webhookEventId":"e","timestamp":1}}',
  ])('rejects %s', (body) => {
    expect(() => parseQueuedEvent(body)).toThrow(InvalidQueuedEventError);
  });

  it('reads a message queued before channels existed as one of the channel "default"', () => {
    const event = followEvent(lineUserId(), 1);
    expect(parseQueuedEvent(JSON.stringify({ destination: DESTINATION, event }))).toEqual({
      channel: 'default',
      destination: DESTINATION,
      event,
    });
  });
});

describe('messageGroupId', () => {
  it('scopes the user by the bot, and falls back to the group or room', () => {
    const userId = lineUserId();
    expect(messageGroupId(DESTINATION, followEvent(userId, 1))).toBe(`${DESTINATION}:${userId}`);
    expect(messageGroupId('Uother', followEvent(userId, 1))).not.toBe(
      messageGroupId(DESTINATION, followEvent(userId, 1)),
    );
    expect(messageGroupId(DESTINATION, { ...followEvent(userId, 1), source: { type: 'group', groupId: 'Cg' } })).toBe(
      `${DESTINATION}:Cg`,
    );
  });

  it('hashes a group id SQS would refuse (over 128 characters, or not printable ASCII) into a stable one', () => {
    const longUser = `U${'f'.repeat(128)}`;
    const long = messageGroupId(DESTINATION, followEvent(longUser, 1));
    expect(long).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(messageGroupId(DESTINATION, followEvent(longUser, 2))).toBe(long);
    expect(messageGroupId(DESTINATION, followEvent(`${longUser}0`, 1))).not.toBe(long);
    expect(messageGroupId(DESTINATION, followEvent('U ü', 1))).toMatch(/^sha256:/);
    expect(messageGroupId('U bot\n', followEvent(lineUserId(), 1))).toMatch(/^sha256:/); // the destination too
    // exactly 128 characters stays as it is
    const fits = `U${'a'.repeat(128 - DESTINATION.length - 2)}`;
    expect(messageGroupId(DESTINATION, followEvent(fits, 1))).toBe(`${DESTINATION}:${fits}`);
  });
});
