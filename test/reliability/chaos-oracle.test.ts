/**
 * The chaos oracle's claim check, fed journals by hand: it must report a claim that went back in its lane even
 * when the newer claim was taken over by another lane, released around, or never journaled (its worker died
 * right after DynamoDB granted it), and must not report claims that did not happen.
 */
import type { EventLane, UserSyncState } from '../../lib/domain/sync-rules';
import type { StoreWrite } from '../../local/chaos/crashing-worker';
import { judgeUsers, type UserProblem } from '../../local/chaos/oracle';
import type { UserHistory } from '../../local/chaos/scenario';
import { followEvent } from '../../local/line-event-factory';

const destination = 'Ubot';
const userId = 'Uoracle';
const user: UserHistory = {
  userId,
  channel: 'th',
  destination,
  events: [followEvent(userId, 3000)],
  actions: ['follow'],
  links: [],
  attacks: [],
};

const write = (
  kind: StoreWrite['kind'],
  webhookEventId: string,
  timestamp: number,
  lane: EventLane = 'sync',
  before?: UserSyncState,
): StoreWrite => ({ kind, destination, userId, webhookEventId, timestamp, lane, at: 0, ...(before ? { before } : {}) });

/** The claim problems the oracle reports for this journal (the user's final state is not judged here). */
function claimProblems(storeWrites: StoreWrite[]): string[] {
  const problems: UserProblem[] = judgeUsers({
    users: [user],
    capillary: {
      customers: [],
      mergeRequests: [],
      behaviouralEvents: { posted: [], duplicates: {}, overLimit: 0 },
      loyalty: {},
    },
    records: new Map(),
    storeWrites,
    lineAccountIds: { th: 'account-th' },
    externalIdPrefix: 'line_',
    members: new Map(),
    nonceConsumers: new Map(),
    linkedEventIds: [],
  });
  return problems.filter(({ kind }) => kind === 'stale' || kind === 'reapplied').map(({ detail }) => detail);
}

describe('chaos oracle: claims that go back in their lane', () => {
  it("reports an older claim after another lane took the newer one's claim over", () => {
    expect(
      claimProblems([write('claim', 'Y', 2000), write('claim', 'L', 3000, 'link'), write('claim', 'X', 1000)]),
    ).toEqual(['claim granted to event X (t=1000) after the newer event Y (t=2000) had one']);
  });

  it('reports an older claim after a newer one of the lane took over and was released (the first may have linked)', () => {
    expect(
      claimProblems([
        write('claim', 'L2', 2000, 'link'),
        write('claim', 'L3', 3000, 'link'),
        write('release', 'L3', 3000, 'link'),
        write('claim', 'L1', 1000, 'link'),
      ]),
    ).toEqual(['claim granted to event L1 (t=1000) after the newer event L2 (t=2000) had one']);
  });

  it('knows a claim nobody journaled from the before-image of the next claim', () => {
    // Y's worker died right after DynamoDB granted its claim; L's claim replaced Y's
    const yClaim: UserSyncState = {
      pendingEventId: 'Y',
      pendingEventTimestamp: 2000,
      pendingLane: 'sync',
      inFlight: { sync: { eventId: 'Y', timestamp: 2000 } },
    };
    expect(claimProblems([write('claim', 'L', 3000, 'link', yClaim), write('claim', 'X', 1000)])).toEqual([
      'claim granted to event X (t=1000) after the newer event Y (t=2000) had one',
    ]);
  });

  it('knows a commit nobody journaled from a before-image, and reports a claim of that event again', () => {
    const committed: UserSyncState = { lastEventId: 'Y', lastEventTimestamp: 2000 };
    expect(claimProblems([write('claim', 'L', 3000, 'link', committed), write('claim', 'Y', 2000)])).toEqual([
      'claim granted to event Y (t=2000) after it was recorded',
    ]);
  });

  it('reports nothing for claims in order, a retry of an unrecorded event, or an older link after a refused one', () => {
    expect(
      claimProblems([
        write('claim', 'X', 1000),
        write('claim', 'Y', 2000),
        write('claim', 'Y', 2000),
        write('commit', 'Y', 2000),
        write('claim', 'L3', 3000, 'link'),
        write('release', 'L3', 3000, 'link'),
        write('claim', 'L1', 1000, 'link'),
        write('claim', 'Z', 2500, 'sync', { lastEventId: 'Y', lastEventTimestamp: 2000 }),
      ]),
    ).toEqual([]);
  });
});
