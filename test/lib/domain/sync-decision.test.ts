import { UnsupportedEventTypeError } from '../../../lib/domain/errors';
import { decide, keepsForgotten } from '../../../lib/domain/sync-decision';
import type { LineEventFacts } from '../../../lib/domain/sync-rules';

const facts = (overrides: Partial<LineEventFacts> = {}): LineEventFacts => ({
  type: 'follow',
  webhookEventId: 'E2',
  timestamp: 2000,
  userId: 'Uuser',
  ...overrides,
});

describe('decide', () => {
  it('registers an unknown follower and opts them in', () => {
    expect(decide(facts(), {})).toEqual({ action: 'register', subscription: 'OPTIN' });
  });

  it('opts a known customer back in on a follow (unblock) without registering again', () => {
    expect(decide(facts({ isUnblocked: true }), { customerId: 7, subscription: 'OPTOUT' })).toEqual({
      action: 'subscribe',
      subscription: 'OPTIN',
      customerId: 7,
    });
  });

  it('opts a known customer out on unfollow', () => {
    expect(decide(facts({ type: 'unfollow' }), { customerId: 7 })).toEqual({
      action: 'subscribe',
      subscription: 'OPTOUT',
      customerId: 7,
    });
  });

  it('resolves an unknown user before recording an unfollow', () => {
    expect(decide(facts({ type: 'unfollow' }), {})).toEqual({
      action: 'resolve-then-subscribe',
      subscription: 'OPTOUT',
    });
  });

  it('refuses event types it has no rule for', () => {
    expect(() => decide(facts({ type: 'message' }), {})).toThrow(UnsupportedEventTypeError);
  });

  describe('a user forgotten on a PII deletion', () => {
    const forgotten = { forgottenAt: 5_000, subscription: undefined };
    it('only records an unfollow: nothing in Capillary', () => {
      expect(decide(facts({ type: 'unfollow', timestamp: 9_000 }), forgotten)).toEqual({
        action: 'record',
        subscription: 'OPTOUT',
      });
      expect(keepsForgotten(facts({ type: 'unfollow', timestamp: 9_000 }), forgotten)).toBe(true);
    });

    it('only records a follow from before the deletion (no new consent)', () => {
      expect(decide(facts({ timestamp: 4_000 }), forgotten)).toEqual({ action: 'record', subscription: 'OPTIN' });
      expect(keepsForgotten(facts({ timestamp: 5_000 }), forgotten)).toBe(true);
    });

    it('looks up on an unfollow after a follow since the deletion that claimed and was never recorded', () => {
      const unfollow = facts({ type: 'unfollow', timestamp: 9_000 });
      // the follow's claim expired (its worker died after registering them, maybe), or only its mark is left
      const afterFollow = {
        ...forgotten,
        pendingEventId: 'F',
        pendingEventTimestamp: 6_000,
        pendingLane: 'sync' as const,
      };
      const markedOnly = { ...forgotten, inFlight: { sync: { eventId: 'F', timestamp: 6_000 } } };
      // the unfollow's own earlier attempt, which took over such a claim (its trace is gone) and died
      const itself = {
        ...forgotten,
        pendingEventId: unfollow.webhookEventId,
        pendingEventTimestamp: 9_000,
        pendingLane: 'sync' as const,
      };
      for (const state of [afterFollow, markedOnly, itself]) {
        expect(decide(unfollow, state)).toEqual({ action: 'resolve-then-subscribe', subscription: 'OPTOUT' });
        expect(keepsForgotten(unfollow, state)).toBe(false);
      }
      // one from before the deletion, or of another lane, registered nobody since
      const before = { ...forgotten, inFlight: { sync: { eventId: 'F', timestamp: 4_000 } } };
      const link = { ...forgotten, inFlight: { link: { eventId: 'L', timestamp: 6_000 } } };
      for (const state of [before, link]) expect(keepsForgotten(unfollow, state)).toBe(true);
    });

    it('registers afresh on a follow after the deletion, and the mark goes', () => {
      expect(decide(facts({ timestamp: 6_000 }), forgotten)).toEqual({ action: 'register', subscription: 'OPTIN' });
      expect(keepsForgotten(facts({ timestamp: 6_000 }), forgotten)).toBe(false);
    });
  });
});
