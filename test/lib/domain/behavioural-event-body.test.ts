import { behaviouralEventBody, eventDateTime, isTimeZone } from '../../../lib/domain/behavioural-event-body';
import { parseEngagementRules, type EngagementRule } from '../../../lib/domain/engagement-rules';

const USER_ID = 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90';
/** 2026-01-01T00:00:00Z */
const NEW_YEAR_UTC = 1767225600000;

const checkinTap = {
  type: 'postback',
  mode: 'active',
  timestamp: NEW_YEAR_UTC + 45_296_789, // 12:34:56.789 UTC
  source: { type: 'user', userId: USER_ID },
  webhookEventId: '01JH9P0STBACK0CHECKIN00001',
  deliveryContext: { isRedelivery: false },
  replyToken: '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d',
  postback: { data: 'action=checkin&store=shibuya' },
};

function checkinRule(): EngagementRule {
  const { rules, problems } = parseEngagementRules(
    [
      {
        type: 'postback',
        data: 'action=checkin*',
        event: 'line_checkin',
        attributes: { postback_data: 'postback.data' },
      },
    ],
    'LINE_ENGAGEMENT_EVENTS',
  );
  expect(problems).toEqual([]);
  return rules[0]!;
}

describe('eventDateTime', () => {
  it.each([
    [NEW_YEAR_UTC, 'UTC', '2026-01-01 00:00:00'],
    [NEW_YEAR_UTC, 'Asia/Tokyo', '2026-01-01 09:00:00'],
    [NEW_YEAR_UTC, 'America/New_York', '2025-12-31 19:00:00'],
    [NEW_YEAR_UTC - 1, 'UTC', '2025-12-31 23:59:59'],
    [NEW_YEAR_UTC + 45_296_789, 'UTC', '2026-01-01 12:34:56'],
    [NEW_YEAR_UTC + 15 * 3_600_000, 'Asia/Tokyo', '2026-01-02 00:00:00'],
    [NEW_YEAR_UTC, 'Asia/Kolkata', '2026-01-01 05:30:00'],
    // Summer time: New York is UTC-4 in July
    [Date.UTC(2026, 6, 1, 12), 'America/New_York', '2026-07-01 08:00:00'],
  ])('%d in %s → %s', (epochMs, timeZone, expected) => {
    expect(eventDateTime(epochMs, timeZone)).toBe(expected);
  });

  it('writes UTC when no zone is given', () => {
    expect(eventDateTime(NEW_YEAR_UTC)).toBe('2026-01-01 00:00:00');
  });

  it('refuses a zone the runtime does not know', () => {
    expect(() => eventDateTime(NEW_YEAR_UTC, 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('isTimeZone', () => {
  it.each([
    ['UTC', true],
    ['Asia/Tokyo', true],
    ['Asia/Bangkok', true],
    ['Mars/Olympus', false],
    ['', false],
  ])('%j → %s', (name, known) => {
    expect(isTimeZone(name)).toBe(known);
  });
});

describe('behaviouralEventBody', () => {
  it('is the flat body Capillary takes: name, LINE event id, time, customer, then the mapped attributes', () => {
    const body = behaviouralEventBody({ rule: checkinRule(), event: checkinTap, customerId: 500000001 });
    expect(body).toEqual({
      event_name: 'line_checkin',
      external_event_id: '01JH9P0STBACK0CHECKIN00001',
      eventDateTime: '2026-01-01 12:34:56',
      customer_id: '500000001',
      postback_data: 'action=checkin&store=shibuya',
    });
  });

  it('writes the time in the configured zone and the customer in the configured field', () => {
    const body = behaviouralEventBody({
      rule: checkinRule(),
      event: checkinTap,
      customerId: 500000001,
      timeZone: 'Asia/Tokyo',
      customerField: 'customer',
    });
    expect(body).toMatchObject({ eventDateTime: '2026-01-01 21:34:56', customer: '500000001' });
    expect(body).not.toHaveProperty('customer_id');
  });

  it('has the same body for a redelivery of the same LINE event (Capillary can key on external_event_id)', () => {
    const redelivered = { ...checkinTap, deliveryContext: { isRedelivery: true } };
    const input = { rule: checkinRule(), customerId: 500000001 };
    expect(behaviouralEventBody({ ...input, event: redelivered })).toEqual(
      behaviouralEventBody({ ...input, event: checkinTap }),
    );
  });

  it('carries neither the LINE user id nor the reply token', () => {
    const text = JSON.stringify(behaviouralEventBody({ rule: checkinRule(), event: checkinTap, customerId: 5 }));
    expect(text).not.toContain(USER_ID);
    expect(text).not.toContain(checkinTap.replyToken);
  });
});
