import { admission, type LineEventFacts } from '../../../lib/domain/sync-rules';

const facts = (overrides: Partial<LineEventFacts> = {}): LineEventFacts => ({
  type: 'follow',
  webhookEventId: 'E2',
  timestamp: 2000,
  userId: 'Uuser',
  ...overrides,
});

describe('admission', () => {
  const NOW = 10_000;

  describe('lanes', () => {
    const link = (overrides: Partial<LineEventFacts> = {}) =>
      facts({ type: 'accountLink', lane: 'link', ...overrides });

    it('orders a link event against the last link event only, not against follows', () => {
      expect(admission(link({ timestamp: 1000 }), { lastEventTimestamp: 5000, lastEventId: 'F' }, NOW)).toBe('apply');
      expect(admission(link({ timestamp: 1000 }), { lastLinkEventTimestamp: 1500, lastLinkEventId: 'L' }, NOW)).toBe(
        'stale',
      );
      expect(
        admission(
          link({ timestamp: 1500, webhookEventId: 'L' }),
          { lastLinkEventTimestamp: 1500, lastLinkEventId: 'L' },
          NOW,
        ),
      ).toBe('duplicate');
      expect(admission(facts({ timestamp: 1000 }), { lastLinkEventTimestamp: 5000, lastLinkEventId: 'L' }, NOW)).toBe(
        'apply',
      );
    });

    it('waits for a live claim of the other lane, and takes an expired one over whatever its timestamp', () => {
      const pending = { pendingEventId: 'F9', pendingEventTimestamp: 9000, pendingLane: 'sync' as const };
      expect(admission(link({ timestamp: 1000 }), { ...pending, pendingExpiresAt: NOW + 1 }, NOW)).toBe('held');
      expect(admission(link({ timestamp: 1000 }), { ...pending, pendingExpiresAt: NOW - 1 }, NOW)).toBe('apply');
      expect(admission(facts({ timestamp: 1000 }), { ...pending, pendingExpiresAt: NOW - 1 }, NOW)).toBe('stale');
    });
  });
  it('turns an engagement event away from a user who has a customer, whatever holds the record; no other lane', () => {
    const tap = facts({ type: 'postback', lane: 'engagement' });
    const liveClaim = { pendingEventId: 'F9', pendingEventTimestamp: 9000, pendingExpiresAt: NOW + 1 };
    expect(admission(tap, { customerId: 7 }, NOW)).toBe('registered');
    expect(admission(tap, { customerId: 7, ...liveClaim }, NOW)).toBe('registered');
    expect(admission(tap, {}, NOW)).toBe('apply');
    expect(admission(tap, liveClaim, NOW)).toBe('held');
    expect(admission(facts(), { customerId: 7 }, NOW)).toBe('apply');
  });

  describe("a lane's in-flight event (claimed, neither recorded nor released)", () => {
    const link = (overrides: Partial<LineEventFacts> = {}) =>
      facts({ type: 'accountLink', lane: 'link', ...overrides });
    const followInFlight = { inFlight: { sync: { eventId: 'F3', timestamp: 3000 } } };
    const linkInFlight = { inFlight: { link: { eventId: 'L3', timestamp: 3000 } } };
    const expiredClaimOf = (pendingEventId: string, pendingLane: 'sync' | 'link') => ({
      pendingEventId,
      pendingEventTimestamp: 4000,
      pendingLane,
      pendingExpiresAt: NOW - 1,
    });

    it('makes older events of its lane stale (a link: held) after another lane took its claim over, and lets its own retry apply', () => {
      const state = { ...followInFlight, ...expiredClaimOf('L4', 'link') };
      expect(admission(facts({ timestamp: 2000 }), state, NOW)).toBe('stale');
      expect(admission(facts({ timestamp: 3000 }), state, NOW)).toBe('stale');
      expect(admission(facts({ webhookEventId: 'F3', timestamp: 3000 }), state, NOW)).toBe('apply');
      // a link waits instead: the newer link-lane event may yet be released (a failed link changes nothing)
      expect(admission(link({ timestamp: 1000 }), { ...linkInFlight, ...expiredClaimOf('F4', 'sync') }, NOW)).toBe(
        'held',
      );
    });

    it('lets a newer sync event take over, but holds a newer link event until it is recorded or released', () => {
      expect(admission(facts({ timestamp: 5000 }), followInFlight, NOW)).toBe('apply');
      expect(admission(link({ timestamp: 5000 }), linkInFlight, NOW)).toBe('held');
      expect(admission(link({ timestamp: 5000 }), expiredClaimOf('L4', 'link'), NOW)).toBe('held');
      expect(admission(link({ webhookEventId: 'L3', timestamp: 3000 }), linkInFlight, NOW)).toBe('apply');
    });

    it("says nothing about the other lane's events", () => {
      expect(admission(facts({ timestamp: 1000 }), linkInFlight, NOW)).toBe('apply');
      expect(admission(link({ timestamp: 1000 }), followInFlight, NOW)).toBe('apply');
    });
  });

  const verdict = (event: Partial<LineEventFacts>, state: Parameters<typeof admission>[1]) =>
    admission(facts(event), state, NOW);

  it('applies the first event for a user', () => {
    expect(verdict({}, {})).toBe('apply');
  });

  it('applies a strictly newer event', () => {
    expect(verdict({ timestamp: 2001 }, { lastEventTimestamp: 2000, lastEventId: 'E1' })).toBe('apply');
  });

  it('calls the same event again a duplicate', () => {
    expect(verdict({}, { lastEventTimestamp: 2000, lastEventId: 'E2' })).toBe('duplicate');
  });

  it('calls an event stale when a newer one was claimed but never recorded (its worker died)', () => {
    const state = {
      lastEventTimestamp: 1000,
      lastEventId: 'E0',
      pendingEventTimestamp: 3000,
      pendingEventId: 'E3',
      pendingExpiresAt: NOW - 1,
    };
    expect(verdict({ timestamp: 2000 }, state)).toBe('stale');
    expect(verdict({ timestamp: 4000 }, state)).toBe('apply'); // the claim expired: a newer event takes it over
    expect(verdict({ webhookEventId: 'E3', timestamp: 3000 }, state)).toBe('apply'); // its own retry
  });

  it("holds a newer event back while another event's claim is live", () => {
    expect(
      verdict({ timestamp: 4000 }, { pendingEventTimestamp: 3000, pendingEventId: 'E3', pendingExpiresAt: NOW }),
    ).toBe('held');
  });

  it('calls an older or equally old different event stale', () => {
    expect(verdict({ timestamp: 1999 }, { lastEventTimestamp: 2000, lastEventId: 'E1' })).toBe('stale');
    expect(verdict({ timestamp: 2000 }, { lastEventTimestamp: 2000, lastEventId: 'E1' })).toBe('stale');
  });
});
