import { parseEngagementRules } from '../../../lib/domain/engagement-rules';
import { eventsByQueue } from '../../../lib/webhook/events-by-queue';
import { followEvent, lineUserId, postbackEvent, textMessageEvent } from '../../../local/line-event-factory';
import { engagementRoutingFor } from '../../../local/rigs/webhook-rig';

const EVENTS_QUEUE = 'http://sqs.local/events.fifo';
const ENGAGEMENT_QUEUE = 'http://sqs.local/engagement.fifo';
// `action=*` would also match the link, unlink and points postbacks: the routes before engagement keep them.
const { rules } = parseEngagementRules([{ type: 'postback', data: 'action=*', event: 'line_tap' }], 'rules');
const routing = engagementRoutingFor(ENGAGEMENT_QUEUE, new Map([['th', rules]]));

describe('eventsByQueue', () => {
  const user = lineUserId();
  const tap = postbackEvent(user, 1, 'action=checkin');
  const follow = followEvent(user, 2);
  const unlink = postbackEvent(user, 3, 'action=unlink');
  const points = postbackEvent(user, 4, 'action=points');
  const text = textMessageEvent(user, 5);

  it('sends the events a rule maps to the engagement queue and the rest, in order, to the events queue', () => {
    expect(
      eventsByQueue('th', [follow, tap, unlink, points, text], { queueUrl: EVENTS_QUEUE, engagement: routing }),
    ).toEqual([
      { queueUrl: EVENTS_QUEUE, events: [follow, unlink, points, text] },
      { queueUrl: ENGAGEMENT_QUEUE, events: [tap] },
    ]);
  });

  it('leaves out a queue that takes none of the events', () => {
    expect(eventsByQueue('th', [tap], { queueUrl: EVENTS_QUEUE, engagement: routing })).toEqual([
      { queueUrl: ENGAGEMENT_QUEUE, events: [tap] },
    ]);
  });

  it('keeps every event of a channel without rules on the events queue', () => {
    expect(eventsByQueue('tw', [tap, follow], { queueUrl: EVENTS_QUEUE, engagement: routing })).toEqual([
      { queueUrl: EVENTS_QUEUE, events: [tap, follow] },
    ]);
  });

  it('keeps every event on the events queue without an engagement queue', () => {
    expect(eventsByQueue('th', [tap, follow], { queueUrl: EVENTS_QUEUE })).toEqual([
      { queueUrl: EVENTS_QUEUE, events: [tap, follow] },
    ]);
  });

  it('keeps a tap without a user id (the worker ignores it) on the events queue', () => {
    const anonymous = { ...tap, source: { type: 'group', groupId: 'Cabc' } };
    expect(eventsByQueue('th', [anonymous], { queueUrl: EVENTS_QUEUE, engagement: routing })).toEqual([
      { queueUrl: EVENTS_QUEUE, events: [anonymous] },
    ]);
  });
});
