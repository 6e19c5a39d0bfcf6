import type { StoreWrite } from '../../../local/chaos/crashing-worker';
import {
  followDelays,
  historyKey,
  tapClaims,
  tapsSlowedNoFollow,
  tapsTurnedBackNoFollowOfACustomer,
} from '../../../local/chaos/follow-delays';
import { followEvent, lineUserId, postbackEvent, unfollowEvent } from '../../../local/line-event-factory';

/** One person on channel `th`: their follow and unfollow accepted at 0 and settled after the given delays. */
function person(followMs: number, unfollowMs: number) {
  const userId = lineUserId();
  const events = [followEvent(userId, 1), postbackEvent(userId, 2, 'action=checkin'), unfollowEvent(userId, 3)];
  const settled: [string, number][] = [
    [events[0]!.webhookEventId, followMs],
    [events[1]!.webhookEventId, 99_999],
    [events[2]!.webhookEventId, unfollowMs],
  ];
  return { user: { userId, channel: 'th', events }, settled };
}

function delaysOf(tapping: ReturnType<typeof person>[], others: ReturnType<typeof person>[]) {
  const everyone = [...tapping, ...others];
  const accepted = new Map(
    everyone.flatMap(({ user }) => user.events.map(({ webhookEventId }) => [webhookEventId, 0])),
  );
  return followDelays(
    everyone.map(({ user }) => user),
    new Set(tapping.map(({ user }) => historyKey(user))),
    { acceptedAt: accepted, settledAt: new Map(everyone.flatMap(({ settled }) => settled)) },
    { attempts: [], tapClaims: new Map() },
  );
}

describe('follow delays of people who tap against people who do not', () => {
  it('times follows and unfollows only, from accepted to settled, in the group of their person', () => {
    const figures = delaysOf([person(100, 300)], [person(50, 70), person(60, 80)]);
    expect(figures).toEqual({
      withTaps: { count: 2, p50Ms: 100, p99Ms: 300 },
      withoutTaps: { count: 4, p50Ms: 60, p99Ms: 80 },
      pastUsualP99: 2,
      turnedBackByTaps: { any: 0, customerKnown: 0 },
    });
    // Up to 3 past the usual p99 are chance.
    expect(tapsSlowedNoFollow(figures)).toBe(true);
  });

  it('fails a run where more of the tappers wait past the usual p99 than chance allows, and one that saw one group', () => {
    const others = Array.from({ length: 100 }, (_, index) => person(50 + index, 60 + index));
    const slowTappers = Array.from({ length: 100 }, (_, index) => person(100, index < 6 ? 90_000 : 100));
    // Of the 200 follows of people who tap, 6 are past the others' p99: within 5 % (10); 11 are not.
    expect(delaysOf(slowTappers, others).pastUsualP99).toBe(6);
    expect(tapsSlowedNoFollow(delaysOf(slowTappers, others))).toBe(true);
    const slowerTappers = Array.from({ length: 100 }, (_, index) => person(100, index < 11 ? 90_000 : 100));
    expect(tapsSlowedNoFollow(delaysOf(slowerTappers, others))).toBe(false);
    expect(tapsSlowedNoFollow(delaysOf([], [person(50, 70)]))).toBe(false);
  });

  it('leaves out an event never accepted or never settled', () => {
    const { user, settled } = person(100, 300);
    const times = { acceptedAt: new Map([[user.events[0]!.webhookEventId, 0]]), settledAt: new Map(settled) };
    const figures = followDelays([user], new Set(), times, { attempts: [], tapClaims: new Map() });
    expect(figures.withoutTaps).toEqual({ count: 1, p50Ms: 100, p99Ms: 100 });
  });

  it('counts the follow and unfollow attempts a tap claim turned back, and fails a run where that tap needed no claim', () => {
    // Prepare: a tap of a user with no customer claims (to register them), then one of a user who had one
    const { user } = person(100, 300);
    const [follow, tap, unfollow] = user.events;
    const claim = (webhookEventId: string, customerId?: number): StoreWrite => ({
      kind: 'claim',
      destination: 'U0',
      userId: user.userId,
      webhookEventId,
      timestamp: 2,
      lane: 'engagement',
      at: 0,
      before: customerId === undefined ? {} : { customerId },
    });
    const registering = tapClaims([claim(tap!.webhookEventId)]);
    const needless = tapClaims([claim(tap!.webhookEventId), claim(tap!.webhookEventId, 7)]);
    const attempts = [
      { webhookEventId: follow!.webhookEventId, heldBy: tap!.webhookEventId },
      { webhookEventId: unfollow!.webhookEventId, heldBy: follow!.webhookEventId },
      { webhookEventId: tap!.webhookEventId, heldBy: follow!.webhookEventId },
    ];
    const times = { acceptedAt: new Map<string, number>(), settledAt: new Map<string, number>() };
    // Act
    const whileRegistering = followDelays([user], new Set([historyKey(user)]), times, {
      attempts,
      tapClaims: registering,
    });
    const withCustomer = followDelays([user], new Set([historyKey(user)]), times, { attempts, tapClaims: needless });
    // Assess: only the follow held by the tap counts; a claim is needless once any of the tap's claims saw a customer
    expect(whileRegistering.turnedBackByTaps).toEqual({ any: 1, customerKnown: 0 });
    expect(tapsTurnedBackNoFollowOfACustomer(whileRegistering)).toBe(true);
    expect(withCustomer.turnedBackByTaps).toEqual({ any: 1, customerKnown: 1 });
    expect(tapsTurnedBackNoFollowOfACustomer(withCustomer)).toBe(false);
  });
});
