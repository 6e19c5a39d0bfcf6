import { parseCallback } from '../../../lib/line/callback';
import { InvalidCallbackError } from '../../../lib/line/errors';
import { callbackBody, DESTINATION, followEvent, lineUserId } from '../../../local/line-event-factory';

const parse = (text: string) => parseCallback(Buffer.from(text, 'utf8'));

describe('parseCallback', () => {
  it('parses a follow and keeps unknown fields untouched', () => {
    const event = { ...followEvent(lineUserId(), 1), futureField: { nested: [1, 2] } };
    const callback = parse(callbackBody([event]));
    expect(callback.destination).toBe(DESTINATION);
    expect(callback.events[0]).toEqual(event);
  });

  it('accepts unknown event types and events without a source', () => {
    const event = {
      type: 'somethingNew',
      mode: 'active',
      timestamp: 5,
      webhookEventId: '01ABC',
      deliveryContext: { isRedelivery: false },
    };
    expect(parse(callbackBody([event as never])).events).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'not json', '$'],
    ['an array', '[]', '$'],
    ['no destination', '{"events":[]}', 'destination'],
    ['events not an array', `{"destination":"${DESTINATION}","events":{}}`, 'events'],
    [
      'an event without type',
      `{"destination":"${DESTINATION}","events":[{"timestamp":1,"webhookEventId":"x"}]}`,
      'events[0].type',
    ],
    [
      'an event without webhookEventId',
      `{"destination":"${DESTINATION}","events":[{"type":"follow","timestamp":1}]}`,
      'events[0].webhookEventId',
    ],
    [
      'a string timestamp',
      `{"destination":"${DESTINATION}","events":[{"type":"follow","timestamp":"1","webhookEventId":"x"}]}`,
      'events[0].timestamp',
    ],
    [
      'a non-ASCII user id',
      `{"destination":"${DESTINATION}","events":[{"type":"follow","timestamp":1,"webhookEventId":"x",` +
        `"source":{"type":"user","userId":"Ü"}}]}`,
      'events[0].source.userId',
    ],
  ])('rejects %s, naming where', (_case, text, path) => {
    expect(() => parse(text)).toThrow(InvalidCallbackError);
    try {
      parse(text);
    } catch (error) {
      expect((error as InvalidCallbackError).path).toBe(path);
    }
  });
});
