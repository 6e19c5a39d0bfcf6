import { eventFactsOf, ignoreReason, routeOf, type EventFacts, type EventRoute } from '../../../lib/domain/event-route';
import type { ReattachRequest } from '../../../lib/domain/identity-rules';
import { identityEvent } from '../../../lib/notifications/identity-events';
import { toLineEvent } from '../../../lib/queue/synthetic-events';
import { accountLinkEvent, followEvent, postbackEvent, textMessageEvent } from '../../../local/line-event-factory';

const CHAT = { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: 'Link card' };
const USER = `U${'a'.repeat(32)}`;
const facts = (overrides: Partial<EventFacts>): EventFacts => ({
  type: 'follow',
  webhookEventId: '01EVENT',
  timestamp: 1000,
  userId: USER,
  ...overrides,
});
const link = (work: object): EventRoute => ({ ...work, userId: USER, lane: 'link' }) as EventRoute;
const ignored = { kind: 'ignored', reason: 'unsupported-type' };

describe('routeOf', () => {
  it.each([
    [{ type: 'follow' }, { kind: 'sync', userId: USER, lane: 'sync' }],
    [{ type: 'unfollow' }, { kind: 'sync', userId: USER, lane: 'sync' }],
    [
      { type: 'accountLink', linkResult: 'ok', nonce: 'N' },
      link({ kind: 'complete-link', nonce: 'N', via: 'accountLink' }),
    ],
    [
      { type: 'accountLink', linkResult: 'failed' },
      { kind: 'link-refused', reason: 'failed-at-line' },
    ],
    [{ type: 'bridge.link', nonce: 'N' }, link({ kind: 'complete-link', nonce: 'N', via: 'id-token' })],
    [{ type: 'bridge.unlink' }, link({ kind: 'unlink', answerInChat: false })],
    [{ type: 'postback', sourceType: 'user', postbackData: 'action=link' }, link({ kind: 'start-link' })],
    [
      { type: 'postback', sourceType: 'user', postbackData: 'action=unlink' },
      link({ kind: 'unlink', answerInChat: true }),
    ],
    [{ type: 'postback', sourceType: 'user', postbackData: 'action=buy' }, ignored],
    [{ type: 'postback', sourceType: 'group', postbackData: 'action=link' }, ignored],
    [{ type: 'message', sourceType: 'user', text: '  link CARD ' }, link({ kind: 'start-link' })],
    [{ type: 'message', sourceType: 'room', text: 'Link card' }, ignored],
    [{ type: 'message', sourceType: 'user', text: 'link' }, ignored],
    [{ type: 'beacon' }, ignored],
  ] as const)('%j → %j', (overrides, route) => {
    expect(routeOf(facts(overrides), CHAT)).toEqual(route);
  });

  it('never starts a link from text when no keyword is configured', () => {
    const text = facts({ type: 'message', sourceType: 'user', text: 'Link card' });
    expect(routeOf(text, { ...CHAT, linkKeyword: undefined })).toEqual(ignored);
  });

  it('refuses a link step that names no user, and ignores a follow that names none', () => {
    expect(routeOf(facts({ type: 'bridge.link', nonce: 'N', userId: undefined }), CHAT)).toEqual({
      kind: 'link-refused',
      reason: 'no-user-id',
    });
    // LINE's failed result is refused as such, user or not
    expect(routeOf(facts({ type: 'accountLink', linkResult: 'failed', userId: undefined }), CHAT)).toEqual({
      kind: 'link-refused',
      reason: 'failed-at-line',
    });
    expect(routeOf(facts({ type: 'follow', userId: undefined }), CHAT)).toEqual({
      kind: 'ignored',
      reason: 'no-user-id',
    });
  });
});

describe('Capillary identity events', () => {
  it('routes a valid merge or deletion to the identity lane of its user, and ignores one without a valid notice', () => {
    const merge = identityEvent(USER, { type: 'capillary.merge', survivor: 2, victim: 1 }, 'CAPILLARY-1', 1000);
    expect(routeOf(eventFactsOf(merge), CHAT)).toEqual({
      kind: 'identity',
      notice: { type: 'capillary.merge', survivor: 2, victim: 1 },
      userId: USER,
      lane: 'identity',
    });
    const deletion = identityEvent(USER, { type: 'capillary.delete', customerId: 1 }, 'CAPILLARY-2', 1000);
    expect(routeOf(eventFactsOf(deletion), CHAT)).toMatchObject({ kind: 'identity', lane: 'identity' });
    expect(routeOf(eventFactsOf({ ...deletion, capillary: { customerId: 'x' } }), CHAT)).toEqual(ignored);
    // a LINE event never carries a notice, whatever fields it has
    expect(eventFactsOf({ ...followEvent(USER, 1), capillary: { customerId: 1 } }).identity).toBeUndefined();
  });
});

describe("the drift check's reattach repair", () => {
  it('routes a valid one to the link lane of its user (it moves a LINE profile), and ignores one without a valid request', () => {
    const reattach = (request: unknown) =>
      toLineEvent({
        facts: { type: 'bridge.reattach', webhookEventId: 'reconcile-1', timestamp: 1000, userId: USER },
        reattach: request as ReattachRequest,
        reason: 'test',
      });
    expect(routeOf(eventFactsOf(reattach({ customerId: 7, holderId: 9 })), CHAT)).toEqual({
      kind: 'reattach',
      request: { customerId: 7, holderId: 9 },
      userId: USER,
      lane: 'link',
    });
    expect(routeOf(eventFactsOf(reattach({ customerId: 7 })), CHAT)).toMatchObject({ request: { customerId: 7 } });
    expect(routeOf(eventFactsOf(reattach({ customerId: 7, holderId: 7 })), CHAT)).toEqual(ignored);
    expect(routeOf(eventFactsOf(reattach({ customerId: 'x' })), CHAT)).toEqual(ignored);
    // a LINE event never carries one, whatever fields it has
    expect(eventFactsOf({ ...followEvent(USER, 1), reattach: { customerId: 7 } }).reattach).toBeUndefined();
  });
});

describe('eventFactsOf', () => {
  it('takes the ordering fields and the user of every event, and each kind its own fields', () => {
    const follow = followEvent(USER, 1000, { follow: { isUnblocked: true } });
    expect(eventFactsOf(follow)).toMatchObject({
      type: 'follow',
      webhookEventId: follow.webhookEventId,
      timestamp: 1000,
      userId: USER,
      sourceType: 'user',
      isUnblocked: true,
    });
    expect(eventFactsOf(accountLinkEvent(USER, 2000, 'N', 'ok'))).toMatchObject({ linkResult: 'ok', nonce: 'N' });
    expect(eventFactsOf(postbackEvent(USER, 3000, 'action=link'))).toMatchObject({
      postbackData: 'action=link',
      replyToken: expect.any(String),
    });
    expect(eventFactsOf(textMessageEvent(USER, 4000, 'Link card'))).toMatchObject({ text: 'Link card' });
  });

  it('reads no text from other message types, and no field of the wrong type', () => {
    const sticker = { ...textMessageEvent(USER, 1000), message: { type: 'sticker', text: 'Link card' } };
    expect(eventFactsOf(sticker).text).toBeUndefined();
    const odd = { ...postbackEvent(USER, 1000, 'x'), postback: { data: 42 }, replyToken: 7 };
    expect(eventFactsOf(odd)).toMatchObject({ postbackData: undefined, replyToken: undefined });
  });
});

describe('ignoreReason', () => {
  it.each(['message', 'postback', 'accountLink', 'somethingNew'])('ignores %s events', (type) => {
    expect(ignoreReason({ type, userId: 'Uuser' })).toBe('unsupported-type');
  });

  it('ignores follow/unfollow events that carry no user id', () => {
    expect(ignoreReason({ type: 'follow', userId: undefined })).toBe('no-user-id');
  });

  it('keeps follow and unfollow events with a user', () => {
    expect(ignoreReason({ type: 'follow', userId: 'Uuser' })).toBeUndefined();
    expect(ignoreReason({ type: 'unfollow', userId: 'Uuser' })).toBeUndefined();
  });
});
