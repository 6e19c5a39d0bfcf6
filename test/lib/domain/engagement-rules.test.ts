import {
  engagementAttributes,
  matchEngagement,
  MAX_MAPPED_ATTRIBUTES,
  parseEngagementRules,
  type EngagementLineEvent,
  type EngagementRule,
} from '../../../lib/domain/engagement-rules';

const USER_ID = 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90';

/** A LINE webhook event of this type and content, as LINE sends it (source, reply token and all). */
const lineEvent = (type: string, content: Record<string, unknown> = {}): EngagementLineEvent => ({
  type,
  mode: 'active',
  timestamp: 1767225600000,
  source: { type: 'user', userId: USER_ID },
  webhookEventId: '01JGZ7Q3X8M2K5T9V4N6P1R0AB',
  deliveryContext: { isRedelivery: false },
  replyToken: '8f3c1e2a9b7d4c6e8a0b2d4f6a8c0e12',
  ...content,
});
const postback = (data: string, params?: Record<string, string>) =>
  lineEvent('postback', { postback: { data, ...(params === undefined ? {} : { params }) } });
const beacon = (hwid: string, type: string, dm?: string) =>
  lineEvent('beacon', { beacon: { hwid, type, ...(dm === undefined ? {} : { dm }) } });
const membership = (type: string, membershipId = 3189) =>
  lineEvent('membership', { membership: { type, membershipId } });
const videoPlayComplete = (trackingId: string) => lineEvent('videoPlayComplete', { videoPlayComplete: { trackingId } });
const textMessage = (text: string) =>
  lineEvent('message', { message: { type: 'text', id: '548301234567890123', quoteToken: 'q', text } });
const sticker = (text: string) =>
  lineEvent('message', { message: { type: 'sticker', id: '1', packageId: '446', stickerId: '1988', text } });

/** The rules of the issue's example, parsed: a test reads them by event name. */
const ISSUE_EXAMPLE = [
  { type: 'postback', data: 'action=checkin*', event: 'line_checkin', attributes: { postback_data: 'postback.data' } },
  {
    type: 'beacon',
    hwid: 'd41d8cd98f',
    beaconType: 'enter',
    event: 'line_store_visit',
    attributes: { hwid: 'beacon.hwid' },
  },
  {
    type: 'membership',
    membershipType: 'joined',
    event: 'line_membership_joined',
    attributes: { membership_id: 'membership.membershipId' },
  },
  { type: 'videoPlayComplete', trackingId: 'spring-ad', event: 'line_video_completed' },
  { type: 'message', text: 'STAMP', event: 'line_keyword_stamp' },
];

function parsed(json: unknown): EngagementRule[] {
  const { rules, problems } = parseEngagementRules(json, 'LINE_ENGAGEMENT_EVENTS');
  expect(problems).toEqual([]);
  return rules;
}

const problemsOf = (json: unknown) => parseEngagementRules(json, 'LINE_ENGAGEMENT_EVENTS').problems;

describe('parseEngagementRules', () => {
  it('reads the issue example: every type, every filter, attributes as given', () => {
    const rules = parsed(ISSUE_EXAMPLE);
    expect(rules).toEqual([
      {
        type: 'postback',
        data: 'action=checkin*',
        event: 'line_checkin',
        attributes: { postback_data: 'postback.data' },
      },
      {
        type: 'beacon',
        hwid: 'd41d8cd98f',
        beaconType: 'enter',
        event: 'line_store_visit',
        attributes: { hwid: 'beacon.hwid' },
      },
      {
        type: 'membership',
        membershipType: 'joined',
        event: 'line_membership_joined',
        attributes: { membership_id: 'membership.membershipId' },
      },
      { type: 'videoPlayComplete', trackingId: 'spring-ad', event: 'line_video_completed', attributes: {} },
      { type: 'message', text: 'STAMP', event: 'line_keyword_stamp', attributes: {} },
    ]);
  });

  it.each([undefined, []])('%j means no rules (engagement off) and no problem', (json) => {
    expect(parseEngagementRules(json, 'LINE_ENGAGEMENT_EVENTS')).toEqual({ rules: [], problems: [] });
  });

  it('refuses a setting that is not an array', () => {
    expect(problemsOf({ type: 'postback', event: 'x' })).toEqual([
      'LINE_ENGAGEMENT_EVENTS must be a JSON array of rules, e.g. [{"type": "postback", …}]',
    ]);
  });

  it('names every malformed rule by index (and event name when it has one), with what is wrong', () => {
    const problems = problemsOf([
      { type: 'postback', event: 'line_checkin' },
      'checkin',
      { type: 'postback' },
      { type: 'postback', event: '1st-checkin' },
      { type: 'tap', event: 'line_tap' },
      { type: 'beacon', event: 'line_visit', beaconType: 'leave' },
      { type: 'membership', event: 'line_member', membershipType: 'cancelled' },
      { type: 'postback', event: 'line_mixed', hwid: 'd41d8cd98f' },
      { type: 'postback', event: 'line_empty', data: '' },
      { type: 'videoPlayComplete', event: 'line_video', trackingId: 42 },
      { type: 'postback', event: 'line_extra', points: 10 },
      { type: 'postback', event: 'line_attrs', attributes: ['postback.data'] },
      { type: 'postback', event: 'line_name', attributes: { 'store-id': 'postback.data' } },
      { type: 'postback', event: 'line_path', attributes: { store: 'postback..data' } },
      { type: 'postback', event: 'line_reserved', attributes: { event_name: 'postback.data' } },
      { type: 'postback', event: 'line_customer', attributes: { customer_id: 'postback.data' } },
      { type: 'postback', event: 'line_too_long_name_'.padEnd(51, 'x') },
    ]);
    expect(problems).toEqual([
      'LINE_ENGAGEMENT_EVENTS[1] must be an object',
      'LINE_ENGAGEMENT_EVENTS[2]: event must be a Capillary event name: a letter, then letters, digits or _ (at most 50)',
      'LINE_ENGAGEMENT_EVENTS[3]: event must be a Capillary event name: a letter, then letters, digits or _ (at most 50)',
      'LINE_ENGAGEMENT_EVENTS[4] (event "line_tap"): type must be one of postback, beacon, membership, videoPlayComplete, message',
      'LINE_ENGAGEMENT_EVENTS[5] (event "line_visit"): beaconType must be one of enter, banner, stay',
      'LINE_ENGAGEMENT_EVENTS[6] (event "line_member"): membershipType must be one of joined, left, renewed',
      'LINE_ENGAGEMENT_EVENTS[7] (event "line_mixed"): hwid filters beacon events only, not postback',
      'LINE_ENGAGEMENT_EVENTS[8] (event "line_empty"): data must be a non-empty string (postback.data)',
      'LINE_ENGAGEMENT_EVENTS[9] (event "line_video"): trackingId must be a non-empty string (videoPlayComplete.trackingId)',
      'LINE_ENGAGEMENT_EVENTS[10] (event "line_extra"): points is not a rule field (known: type, event, attributes, data, hwid, beaconType, membershipType, trackingId, text)',
      'LINE_ENGAGEMENT_EVENTS[11] (event "line_attrs"): attributes must map Capillary field names to LINE event paths',
      'LINE_ENGAGEMENT_EVENTS[12] (event "line_name"): attributes.store-id is not a Capillary field name: a letter, then letters, digits or _',
      'LINE_ENGAGEMENT_EVENTS[13] (event "line_path"): attributes.store must be a dotted path in the LINE event, e.g. "postback.data"',
      'LINE_ENGAGEMENT_EVENTS[14] (event "line_reserved"): attributes.event_name is a field the bridge sets itself',
      'LINE_ENGAGEMENT_EVENTS[15] (event "line_customer"): attributes.customer_id is a field the bridge sets itself',
      'LINE_ENGAGEMENT_EVENTS[16]: event must be a Capillary event name: a letter, then letters, digits or _ (at most 50)',
    ]);
  });

  it('returns no rules at all when any rule is malformed (the cold start fails)', () => {
    const { rules, problems } = parseEngagementRules(
      [ISSUE_EXAMPLE[0], { type: 'postback', event: 'line_bad', data: 7 }],
      'LINE_CHANNELS[0].engagementEvents',
    );
    expect(rules).toEqual([]);
    expect(problems).toEqual([
      'LINE_CHANNELS[0].engagementEvents[1] (event "line_bad"): data must be a non-empty string (postback.data)',
    ]);
  });

  it('keeps the configured customer field off the attributes too', () => {
    const rule = { type: 'postback', event: 'line_tap', attributes: { member: 'postback.data' } };
    expect(parseEngagementRules([rule], 'X', 'member').problems).toEqual([
      'X[0] (event "line_tap"): attributes.member is a field the bridge sets itself',
    ]);
    expect(parseEngagementRules([rule], 'X').problems).toEqual([]);
  });

  it(`allows at most ${MAX_MAPPED_ATTRIBUTES} attributes (Capillary's 20 less the bridge's own 4)`, () => {
    const attributes = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`a${index}`, 'postback.data']));
    expect(problemsOf([{ type: 'postback', event: 'e', attributes: attributes(MAX_MAPPED_ATTRIBUTES) }])).toEqual([]);
    expect(problemsOf([{ type: 'postback', event: 'e', attributes: attributes(MAX_MAPPED_ATTRIBUTES + 1) }])).toEqual([
      'LINE_ENGAGEMENT_EVENTS[0] (event "e"): attributes has 17 fields; at most 16 (Capillary allows 20 in all)',
    ]);
  });
});

describe('parseEngagementRules: no path that can hold personal data is ever mapped', () => {
  const refusal = (type: string, path: string) =>
    problemsOf([{ type, event: 'line_event', attributes: { field: path } }]);

  it.each([
    ['postback', 'source.userId', 'it identifies the LINE user, group or room'],
    ['postback', 'source.groupId', 'it identifies the LINE user, group or room'],
    ['message', 'source.roomId', 'it identifies the LINE user, group or room'],
    ['message', 'message.text', 'it is what the user sent'],
    ['message', 'message.id', 'it is what the user sent'],
    ['message', 'message.quoteToken', 'it is what the user sent'],
    ['message', 'message.emojis', 'it is what the user sent'],
    ['beacon', 'replyToken', 'it is a reply credential'],
    ['postback', 'link.nonce', 'it belongs to account linking (the nonce)'],
    ['postback', 'displayName', 'it is not on the allow-list'],
    ['postback', 'profile.pictureUrl', 'it is not on the allow-list'],
    ['postback', 'source', 'it is not on the allow-list'],
    ['postback', 'postback.params', 'it is not on the allow-list'],
    ['postback', 'postback.params.a.b', 'it is not on the allow-list'],
    ['beacon', 'postback.data', 'it is not on the allow-list'],
  ])('a %s rule refuses %s: %s', (type, path, reason) => {
    const [problem, ...others] = refusal(type, path);
    expect(others).toEqual([]);
    expect(problem).toContain(`LINE_ENGAGEMENT_EVENTS[0] (event "line_event"): attributes.field path "${path}"`);
    expect(problem).toContain(`is refused: ${reason}. Capillary keeps behavioural events after a PII deletion`);
  });

  it('lists the paths a rule of that type may map', () => {
    expect(refusal('beacon', 'source.userId')[0]).toMatch(
      /a beacon rule maps only type, mode, timestamp, webhookEventId, deliveryContext\.isRedelivery, source\.type, beacon\.hwid, beacon\.type, beacon\.dm$/,
    );
  });

  it.each([
    ['postback', ['postback.data', 'postback.params.datetime', 'postback.params.newRichMenuAliasId']],
    ['beacon', ['beacon.hwid', 'beacon.type', 'beacon.dm']],
    ['membership', ['membership.type', 'membership.membershipId']],
    ['videoPlayComplete', ['videoPlayComplete.trackingId']],
    ['message', ['message.type']],
    ['postback', ['type', 'mode', 'timestamp', 'webhookEventId', 'deliveryContext.isRedelivery', 'source.type']],
  ])('a %s rule maps %j', (type, paths) => {
    const attributes = Object.fromEntries(paths.map((path, index) => [`f${index}`, path]));
    expect(problemsOf([{ type, event: 'line_event', attributes }])).toEqual([]);
  });
});

describe('matchEngagement', () => {
  const rules = parsed(ISSUE_EXAMPLE);
  const matched = (event: EngagementLineEvent) => matchEngagement(rules, event)?.event;

  it.each([
    ['postback data by prefix', postback('action=checkin&store=shibuya'), 'line_checkin'],
    ['postback data equal to the prefix', postback('action=checkin'), 'line_checkin'],
    ['postback data of another action', postback('action=claim'), undefined],
    ['postback data that only contains the prefix', postback('x&action=checkin'), undefined],
    ['beacon hwid and type', beacon('d41d8cd98f', 'enter'), 'line_store_visit'],
    ['beacon of another type', beacon('d41d8cd98f', 'stay'), undefined],
    ['another beacon', beacon('0000000000', 'enter'), undefined],
    ['membership joined', membership('joined'), 'line_membership_joined'],
    ['membership renewed', membership('renewed'), undefined],
    ['video with the tracking id', videoPlayComplete('spring-ad'), 'line_video_completed'],
    ['video with another tracking id', videoPlayComplete('summer-ad'), undefined],
    ['the keyword', textMessage('STAMP'), 'line_keyword_stamp'],
    ['the keyword in other case', textMessage('stamp'), undefined],
    ['text around the keyword', textMessage('STAMP please'), undefined],
    ['a sticker whose text is the keyword', sticker('STAMP'), undefined],
    ['a follow', lineEvent('follow', { follow: { isUnblocked: false } }), undefined],
    ['a postback without content', lineEvent('postback'), undefined],
  ])('%s → %s', (_name, event, eventName) => {
    expect(matched(event)).toBe(eventName);
  });

  it('matches postback data exactly when the rule has no trailing *', () => {
    const exact = parsed([{ type: 'postback', data: 'action=checkin', event: 'line_exact' }]);
    expect(matchEngagement(exact, postback('action=checkin'))?.event).toBe('line_exact');
    expect(matchEngagement(exact, postback('action=checkin&store=shibuya'))).toBeUndefined();
  });

  it('without filters, matches every event of its type', () => {
    const any = parsed([
      { type: 'beacon', event: 'line_any_beacon' },
      { type: 'membership', event: 'line_any_membership' },
    ]);
    expect(matchEngagement(any, beacon('0000000000', 'banner'))?.event).toBe('line_any_beacon');
    expect(matchEngagement(any, membership('left'))?.event).toBe('line_any_membership');
    expect(matchEngagement(any, postback('action=checkin'))).toBeUndefined();
  });

  it('the first matching rule wins, in the configured order', () => {
    const ordered = parsed([
      { type: 'postback', data: 'action=checkin&store=shibuya', event: 'line_checkin_shibuya' },
      { type: 'postback', data: 'action=*', event: 'line_any_action' },
      { type: 'postback', data: 'action=checkin*', event: 'line_checkin' },
    ]);
    expect(matchEngagement(ordered, postback('action=checkin&store=shibuya'))?.event).toBe('line_checkin_shibuya');
    expect(matchEngagement(ordered, postback('action=checkin&store=ginza'))?.event).toBe('line_any_action');
    expect(matchEngagement([...ordered].reverse(), postback('action=checkin&store=shibuya'))?.event).toBe(
      'line_checkin',
    );
  });
});

describe('engagementAttributes', () => {
  it('reads every mapped path, keeping the value type LINE sent', () => {
    const [rule] = parsed([
      {
        type: 'membership',
        event: 'line_membership',
        attributes: { membership_id: 'membership.membershipId', kind: 'membership.type', at: 'timestamp' },
      },
    ]);
    expect(engagementAttributes(rule!, membership('renewed', 3189))).toEqual({
      membership_id: 3189,
      kind: 'renewed',
      at: 1767225600000,
    });
  });

  it('leaves out a path the event does not have, or that holds no single value', () => {
    const [rule] = parsed([
      {
        type: 'postback',
        event: 'line_reserve',
        attributes: {
          data: 'postback.data',
          date: 'postback.params.date',
          redelivered: 'deliveryContext.isRedelivery',
        },
      },
    ]);
    expect(engagementAttributes(rule!, postback('action=reserve'))).toEqual({
      data: 'action=reserve',
      redelivered: false,
    });
    expect(engagementAttributes(rule!, postback('action=reserve', { date: '2026-01-02' }))).toEqual({
      data: 'action=reserve',
      date: '2026-01-02',
      redelivered: false,
    });
    expect(engagementAttributes(rule!, { ...postback('x'), postback: { data: { nested: true } } })).toEqual({
      redelivered: false,
    });
  });

  it('carries no LINE user id, reply token or message text, whatever the event holds', () => {
    const rules = parsed(
      ['postback', 'beacon', 'membership', 'videoPlayComplete', 'message'].map((type) => ({
        type,
        event: `line_${type}`,
        attributes: {
          type: 'type',
          mode: 'mode',
          source: 'source.type',
          ...(type === 'message' ? { kind: 'message.type' } : {}),
        },
      })),
    );
    const events = [
      postback('action=checkin'),
      beacon('d41d8cd98f', 'enter', '1234'),
      membership('joined'),
      videoPlayComplete('spring-ad'),
      textMessage('my phone is 0812345678'),
    ];
    for (const [index, event] of events.entries()) {
      const attributes = JSON.stringify(engagementAttributes(rules[index]!, event));
      expect(attributes).not.toContain(USER_ID);
      expect(attributes).not.toContain('8f3c1e2a9b7d4c6e8a0b2d4f6a8c0e12');
      expect(attributes).not.toContain('0812345678');
    }
  });
});
