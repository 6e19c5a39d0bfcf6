import {
  backfillVerdict,
  bulkCost,
  classifyDrift,
  cursorExpired,
  etaSeconds,
  followersPerHour,
  repairEventType,
  syntheticEventId,
  syntheticFollow,
  ZERO_COUNTERS,
} from '../../../lib/domain/backfill-rules';
import type { UserSyncState } from '../../../lib/domain/sync-rules';

const USER = 'U0123456789abcdef0123456789abcdef';
const SNAPSHOT = 10_000;
const NOW = 20_000;
const follow = syntheticFollow('job-1:0', USER, SNAPSHOT);

describe('backfillVerdict', () => {
  it.each<[string, UserSyncState | undefined, ReturnType<typeof backfillVerdict>]>([
    ['no record', undefined, 'register'],
    [
      'opted in, nothing pending',
      { customerId: 1, subscription: 'OPTIN', lastEventTimestamp: 500, lastEventId: 'e' },
      'known',
    ],
    [
      'opted out by an older event',
      { customerId: 1, subscription: 'OPTOUT', lastEventTimestamp: 500, lastEventId: 'e' },
      'register',
    ],
    [
      'opted out by an event after the snapshot',
      { customerId: 1, subscription: 'OPTOUT', lastEventTimestamp: SNAPSHOT + 1, lastEventId: 'e' },
      'known',
    ],
    [
      'this job already applied it',
      { customerId: 1, subscription: 'OPTIN', lastEventTimestamp: SNAPSHOT, lastEventId: follow.webhookEventId },
      'applied-by-this-job',
    ],
    [
      'a live claim in flight',
      {
        subscription: 'OPTOUT',
        lastEventTimestamp: 500,
        lastEventId: 'e',
        pendingEventId: 'live',
        pendingEventTimestamp: 600,
        pendingExpiresAt: NOW + 1,
      },
      'deferred',
    ],
    [
      'opted in while an unfollow is in flight',
      {
        subscription: 'OPTIN',
        lastEventTimestamp: 500,
        lastEventId: 'e',
        pendingEventId: 'live',
        pendingEventTimestamp: 600,
        pendingExpiresAt: NOW + 1,
      },
      'deferred',
    ],
    [
      'its own claim from a crashed invocation',
      { pendingEventId: follow.webhookEventId, pendingEventTimestamp: SNAPSHOT, pendingExpiresAt: NOW + 1 },
      'register',
    ],
    [
      'an expired claim of an older event',
      { pendingEventId: 'old', pendingEventTimestamp: 600, pendingExpiresAt: NOW - 1 },
      'register',
    ],
    [
      'a claim of a newer event, expired',
      { pendingEventId: 'newer', pendingEventTimestamp: SNAPSHOT + 5, pendingExpiresAt: NOW - 1 },
      'known',
    ],
  ])('%s → %s', (_name, state, verdict) => {
    expect(backfillVerdict(follow, state, NOW)).toBe(verdict);
  });
});

describe('syntheticEventId', () => {
  it('is stable per run and user, differs between runs, origins and users, and carries no part of the user id', () => {
    const id = syntheticEventId('backfill', 'job-1:0', USER);
    expect(syntheticEventId('backfill', 'job-1:0', USER)).toBe(id);
    expect(
      new Set([
        id,
        syntheticEventId('backfill', 'job-1:1', USER),
        syntheticEventId('reconcile', 'job-1:0', USER),
        syntheticEventId('backfill', 'job-1:0', 'U1123456789abcdef0123456789abcdef'),
      ]).size,
    ).toBe(4);
    expect(id).toMatch(/^backfill-[0-9a-f]{32}$/);
    expect(id).not.toContain(USER.slice(1, 9));
  });
});

describe('classifyDrift', () => {
  const optedIn: UserSyncState = { customerId: 7, subscription: 'OPTIN', lastEventTimestamp: 1, lastEventId: 'e' };
  const optedOut: UserSyncState = { customerId: 7, subscription: 'OPTOUT', lastEventTimestamp: 1, lastEventId: 'e' };
  it.each([
    ['a follower without a record', { isFollower: true, table: undefined }, 'unknown-follower'],
    ['a follower the table has opted out', { isFollower: true, table: optedOut }, 'missed-follow'],
    ['an opted-in record LINE no longer lists', { isFollower: false, table: optedIn }, 'missed-unfollow'],
    [
      'agreement, Capillary opted out',
      { isFollower: true, table: optedIn, capillary: 'OPTOUT' as const },
      'capillary-differs',
    ],
    [
      'agreement, Capillary has no subscription',
      { isFollower: true, table: optedIn, capillary: 'none' as const },
      'capillary-differs',
    ],
    ['agreement everywhere', { isFollower: true, table: optedIn, capillary: 'OPTIN' as const }, undefined],
    ['an opted-out non-follower', { isFollower: false, table: optedOut, capillary: 'OPTOUT' as const }, undefined],
    [
      'a record being changed right now',
      { isFollower: true, table: { ...optedOut, pendingEventId: 'live' } },
      undefined,
    ],
  ])('%s → %s', (_name, observation, drift) => {
    expect(classifyDrift(observation)).toBe(drift);
  });

  it("repairs toward LINE's truth, and toward the table for Capillary drift", () => {
    expect(repairEventType('unknown-follower', { isFollower: true, table: undefined })).toBe('follow');
    expect(repairEventType('missed-follow', { isFollower: true, table: optedOut })).toBe('follow');
    expect(repairEventType('missed-unfollow', { isFollower: false, table: optedIn })).toBe('unfollow');
    expect(repairEventType('capillary-differs', { isFollower: false, table: optedOut })).toBe('unfollow');
    expect(repairEventType('capillary-differs', { isFollower: true, table: optedIn })).toBe('follow');
  });
});

describe('rates', () => {
  it('costs 1 token per bulk call or 1 per record, as configured', () => {
    expect([bulkCost(10, 'request'), bulkCost(10, 'record')]).toEqual([1, 10]);
  });

  it('registers 10× as many followers an hour when a bulk call counts once', () => {
    expect(followersPerHour(100, 1, 10, 'request')).toBe(60_000);
    expect(followersPerHour(100, 1, 10, 'record')).toBe(6000);
    expect(followersPerHour(1000, 0.5, 10, 'record')).toBe(30_000);
  });

  it('estimates the time left from the share of ids that needed a call so far', () => {
    expect(etaSeconds(ZERO_COUNTERS, undefined, 6000)).toBeUndefined();
    expect(etaSeconds(ZERO_COUNTERS, 6000, 6000)).toBe(3600);
    expect(etaSeconds({ ...ZERO_COUNTERS, idsSeen: 1000, registered: 500, alreadyKnown: 500 }, 7000, 6000)).toBe(1800);
  });

  it('treats a cursor as expired 24 h after LINE issued it', () => {
    expect(cursorExpired(undefined, NOW)).toBe(false);
    expect(cursorExpired(0, 24 * 3600 * 1000 - 1)).toBe(false);
    expect(cursorExpired(0, 24 * 3600 * 1000)).toBe(true);
  });
});
