import type { UserSyncState } from '../../../lib/domain/sync-rules';
import {
  classifyReconcile,
  repairOf,
  type ReconcileObservation,
  type RegistrationPolicy,
} from '../../../ops/reconcile/identity-drift';

const REGISTERS: RegistrationPolicy = { defersRegistration: false };
const ON_LINK: RegistrationPolicy = { defersRegistration: true };
const optedIn = (extra: Partial<UserSyncState> = {}): UserSyncState => ({
  customerId: 7,
  subscription: 'OPTIN',
  ...extra,
});
const friend = (
  table: UserSyncState | undefined,
  identity?: ReconcileObservation['identity'],
): ReconcileObservation => ({
  isFollower: true,
  table,
  ...(identity ? { identity } : {}),
});

describe('classifyReconcile', () => {
  it.each([
    ['a customer Capillary no longer has', friend(optedIn(), { kind: 'gone', codes: [8069, 91009] }), 'dead-customer'],
    [
      'the LINE profile on another customer',
      friend(optedIn(), { kind: 'lacks-line-profile', holderId: 9 }),
      'linked-elsewhere',
    ],
    [
      'a friend whose customer lost the LINE profile nobody holds',
      friend(optedIn(), { kind: 'lacks-line-profile' }),
      'orphaned-follower',
    ],
    ['a friend whose record names no customer', friend({ subscription: 'OPTIN' }), 'orphaned-follower'],
    ['a friend on the customer holding the profile', friend(optedIn(), { kind: 'holds-line-profile' }), undefined],
  ] as const)('%s → %s', (_case, observation, expected) => {
    expect(classifyReconcile(observation, REGISTERS)).toBe(expected);
  });

  it('takes who is who before the subscription classes: a stripped customer is not opted in by a missed-follow repair', () => {
    const stripped = friend(optedIn({ subscription: 'OPTOUT' }), { kind: 'lacks-line-profile' });
    expect(classifyReconcile(stripped, REGISTERS)).toBe('orphaned-follower');
    expect(classifyReconcile({ ...stripped, identity: undefined }, REGISTERS)).toBe('missed-follow');
  });

  it('leaves a friend with no customer alone when registration waits for a link, and a former friend without the profile', () => {
    expect(classifyReconcile(friend({ subscription: 'OPTIN' }), ON_LINK)).toBeUndefined();
    const formerFriend = { isFollower: false, table: optedIn({ subscription: 'OPTOUT' }) };
    expect(classifyReconcile({ ...formerFriend, identity: { kind: 'lacks-line-profile' } }, REGISTERS)).toBeUndefined();
  });

  it('reports a forgotten user apart, whatever else is observed, and skips a record with a claim in flight', () => {
    const forgotten = friend({ forgottenAt: 1000, lastEventId: 'E' }, { kind: 'gone', codes: [8109] });
    expect(classifyReconcile(forgotten, REGISTERS)).toBe('forgotten');
    const pending = friend(optedIn({ pendingEventId: 'P' }), { kind: 'gone', codes: [8109] });
    expect(classifyReconcile(pending, REGISTERS)).toBeUndefined();
  });
});

describe('repairOf', () => {
  it("re-resolves a dead customer with LINE's truth, which the worker applies to whoever holds the LINE id now", () => {
    const dead = friend(optedIn(), { kind: 'gone', codes: [8069] });
    expect(repairOf('dead-customer', dead)).toEqual({ type: 'follow' });
    expect(repairOf('dead-customer', { ...dead, isFollower: false })).toEqual({ type: 'unfollow' });
  });

  it('puts the LINE profile back on the record’s customer, naming the holder to take it from', () => {
    expect(repairOf('linked-elsewhere', friend(optedIn(), { kind: 'lacks-line-profile', holderId: 9 }))).toEqual({
      type: 'bridge.reattach',
      reattach: { customerId: 7, holderId: 9 },
    });
    expect(repairOf('orphaned-follower', friend(optedIn(), { kind: 'lacks-line-profile' }))).toEqual({
      type: 'bridge.reattach',
      reattach: { customerId: 7 },
    });
  });

  it('registers a friend whose record names no customer with a follow', () => {
    expect(repairOf('orphaned-follower', friend({ subscription: 'OPTIN' }))).toEqual({ type: 'follow' });
  });
});
