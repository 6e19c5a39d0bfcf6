/**
 * The ordering rule as a property of the real store: one user's events of every lane claim, die at any step
 * (after the claim, before or after the commit), have their claims expire and taken over by any lane,
 * commit, or are released (a refused link). At every claim, DynamoDB's condition and `admission()` agree;
 * in an ordered lane no claim goes to an event older than one of its lane that claimed and was not released,
 * nor to an event already recorded; no event is refused as stale or duplicate but by its own lane; and an
 * unordered lane's event (engagement) claims exactly when no other event's live claim is in the way and no follow
 * has registered the user (a sync commit writes a customer).
 *
 * Reproduce a failure: FC_SEED=<seed> FC_PATH=<path> npx jest user-sync-store.property
 * DYNAMODB_LOCAL_ENDPOINT=http://localhost:8000 runs it against AWS's DynamoDB Local instead of dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';

import { admission, EVENT_LANES, type EventLane, type LineEventFacts } from '../../../lib/domain/sync-rules';
import { ClaimLostError } from '../../../lib/store/errors';
import { UserSyncStore, type AppliedChange } from '../../../lib/store/user-sync-store';
import { createUsersTable } from '../../../local/rigs/worker-rig';

const CLAIM_TTL_MS = 1000;
/**
 * The model's own view of each lane (the contract, not LANE_ORDER): a type of event it carries, and whether its
 * events are unordered (each its own fact: never stale, never making another stale).
 */
const LANE_MODEL: Record<EventLane, { type: string; unordered: boolean }> = {
  sync: { type: 'follow', unordered: false },
  link: { type: 'accountLink', unordered: false },
  identity: { type: 'capillary.merge', unordered: false },
  engagement: { type: 'postback', unordered: true },
  loyalty: { type: 'capillary.tier', unordered: false },
};
const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const path = process.env.FC_PATH;
const numRuns = Number(process.env.FC_RUNS ?? 100);
const endpoint = process.env.DYNAMODB_LOCAL_ENDPOINT;

const eventsArbitrary = fc.array(
  fc.record({ lane: fc.constantFrom<EventLane>(...EVENT_LANES), timestamp: fc.integer({ min: 1, max: 8 }) }),
  { minLength: 2, maxLength: 4 },
);
/**
 * What the worker that got a claim does next: `dies` after the claim or its Capillary calls (its claim then expires),
 * or `holds` on (still working when the next step comes).
 */
type Then = 'commit' | 'release' | 'dies' | 'holds';
type Step =
  | { kind: 'deliver'; event: number; then: Then }
  | { kind: 'claims-expire' }
  | { kind: 'holder-finishes'; as: 'commit' | 'release' };
const stepsArbitrary = (events: number): fc.Arbitrary<Step[]> =>
  fc.array(
    fc.oneof(
      // a worker gets the event (a delivery or a retry) and claims it; if granted, it goes on as `then` says
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('deliver' as const),
          event: fc.nat(events - 1),
          then: fc.oneof(
            { weight: 2, arbitrary: fc.constant<Then>('dies') },
            { weight: 2, arbitrary: fc.constant<Then>('commit') },
            { weight: 1, arbitrary: fc.constantFrom<Then>('release', 'holds') },
          ),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'claims-expire' as const }) },
      // the longest-working live worker finishes (its claim may have been taken over meanwhile)
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('holder-finishes' as const),
          as: fc.constantFrom('commit' as const, 'release' as const),
        }),
      },
    ),
    { minLength: 1, maxLength: 12 },
  );

describe(`the ordering rule under deaths and cross-lane takeovers (${endpoint ?? 'dynalite'}, fast-check seed ${seed})`, () => {
  const dynamo = new DynamoDBClient(endpoint ? { endpoint } : {});
  let store: UserSyncStore;
  beforeAll(async () => {
    store = new UserSyncStore(dynamo, await createUsersTable(dynamo), CLAIM_TTL_MS);
  });
  afterAll(() => dynamo.destroy());

  it('grants exactly what admission() allows, and never a claim that goes back in its lane', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        eventsArbitrary.chain((events) => fc.tuple(fc.constant(events), stepsArbitrary(events.length))),
        async ([planned, steps]) => {
          // Prepare: a fresh user per run
          const key = { destination: 'Ubot', userId: `Uproperty${run++}` };
          const events: LineEventFacts[] = planned.map(({ lane, timestamp }, index) => ({
            type: LANE_MODEL[lane].type,
            webhookEventId: `E${index}`,
            timestamp,
            lane,
          }));
          /** claimed and not released: they may have reached Capillary */
          const mayHaveReached = new Set<LineEventFacts>();
          const recorded = new Set<LineEventFacts>();
          /** a sync event committed its customer: engagement events then claim nothing */
          let registered = false;
          /** events whose worker holds a claim (or held it: it may have expired) and is alive, longest first */
          const working: LineEventFacts[] = [];
          let now = 1_000_000;
          /** the last granted claim, until its worker records or releases it (a claim put back then has expired) */
          let liveClaim: { event: LineEventFacts; expiresAt: number } | undefined;
          /** A live worker records its event, or releases it (a refused link: nothing reached Capillary). */
          const finish = async (event: LineEventFacts, as: 'commit' | 'release') => {
            const release = as === 'release' && event.lane === 'link'; // only links are refused
            const change: AppliedChange = release
              ? { recordEvent: false }
              : event.lane === 'sync'
                ? { customerId: 1 }
                : {};
            try {
              await store.complete(key, event, change, now);
            } catch (error) {
              // Its claim was taken over: the worker fails, and what it did may have reached Capillary.
              if (!(error instanceof ClaimLostError)) throw error;
              return;
            }
            if (liveClaim?.event === event) liveClaim = undefined;
            if (release) mayHaveReached.delete(event);
            else recorded.add(event);
            registered ||= change.customerId !== undefined;
          };
          // Act + Assess, step by step
          for (const step of steps) {
            if (step.kind === 'claims-expire') now += CLAIM_TTL_MS + 1;
            if (step.kind === 'holder-finishes') {
              const holder = working.shift();
              if (holder) await finish(holder, step.as);
            }
            if (step.kind !== 'deliver') continue;
            const event = events[step.event]!;
            const claim = await store.claim(key, event, now);
            const verdict = admission(event, claim.state, now);
            expect({ event: event.webhookEventId, claimed: claim.claimed }).toEqual({
              event: event.webhookEventId,
              claimed: verdict === 'apply',
            });
            // Its ordered lane's events that claimed and may have reached Capillary at or after its time (or itself,
            // recorded); an unordered lane's events go back in their lane by design, each posted once.
            const ownLaneAhead = [...mayHaveReached].filter(
              (other) =>
                other.lane === event.lane &&
                !LANE_MODEL[event.lane!].unordered &&
                (other === event ? recorded.has(event) : other.timestamp >= event.timestamp),
            );
            // Stale or duplicate only by its own lane: no other lane ever makes an event stale.
            if (verdict === 'stale' || verdict === 'duplicate')
              expect({ refused: event.webhookEventId, byOwnLane: ownLaneAhead.length > 0 }).toEqual({
                refused: event.webhookEventId,
                byOwnLane: true,
              });
            if (LANE_MODEL[event.lane!].unordered) {
              const free = liveClaim === undefined || liveClaim.event === event || liveClaim.expiresAt < now;
              expect({ unordered: event.webhookEventId, claimed: claim.claimed }).toEqual({
                unordered: event.webhookEventId,
                claimed: free && !registered,
              });
            }
            if (!claim.claimed) continue;
            liveClaim = { event, expiresAt: now + CLAIM_TTL_MS };
            expect({ claimed: event.webhookEventId, after: ownLaneAhead.map((other) => other.webhookEventId) }).toEqual(
              {
                claimed: event.webhookEventId,
                after: [],
              },
            );
            mayHaveReached.add(event);
            if (step.then === 'holds') working.push(event);
            else if (step.then === 'dies') now += CLAIM_TTL_MS + 1;
            else await finish(event, step.then);
          }
        },
      ),
      { seed, path, numRuns },
    );
  }, 240_000);
});
