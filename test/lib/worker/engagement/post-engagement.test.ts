import type { EngagementSettings } from '../../../../lib/config/engagement-config';
import { parseEngagementRules } from '../../../../lib/domain/engagement-rules';
import { eventFactsOf } from '../../../../lib/domain/event-route';
import { CAPILLARY_DELETE_TYPE } from '../../../../lib/domain/identity-rules';
import type { LineWebhookEvent } from '../../../../lib/line/callback';
import { identityEvent, identityEventId } from '../../../../lib/notifications/identity-events';
import type { UserRecordStore } from '../../../../lib/store/ports';
import {
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  textMessageEvent,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import { startWorkerHarness, type WorkerHarness } from '../../../../local/rigs/worker-rig';
import { LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS } from '../../../../local/standins/behavioural-events-ingest';
import type { CapillaryStandIn } from '../../../../local/standins/capillary-standin';

const RULES = [
  { type: 'postback', data: 'action=checkin*', event: 'line_checkin', attributes: { postback_data: 'postback.data' } },
  { type: 'message', text: 'STAMP', event: 'line_keyword_stamp' },
];

const engagementFor =
  (rules: unknown = RULES) =>
  (capillary: CapillaryStandIn): EngagementSettings => ({
    rulesByChannel: new Map([['default', parseEngagementRules(rules, 'test').rules]]),
    posting: {
      url: capillary.behaviouralEventsUrl,
      credentials: LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
      timeZone: 'UTC',
      customerField: 'customer_id',
      rateLimitPerMinute: 1_000_000,
    },
  });

const checkin = (userId: string, timestamp: number) =>
  postbackEvent(userId, timestamp, `action=checkin&store=${timestamp}`);
const posted = (harness: WorkerHarness) => harness.capillary.state().behaviouralEvents.posted;
const outcomes = (harness: WorkerHarness) => harness.settled.map((settled) => settled.outcome);

/** Runs a follow first so the user has a Capillary customer. */
async function follower(harness: WorkerHarness, timestamp = 1000): Promise<{ userId: string; customerId: number }> {
  const userId = lineUserId();
  harness.line.setProfile(userId, { displayName: 'Somchai Jaidee' });
  await harness.run([followEvent(userId, timestamp)]);
  const [customer] = harness.capillary.customersWithIdentifier('line', userId);
  return { userId, customerId: customer!.id };
}

/** The store's claim, noting whether each claim of the engagement lane was granted. */
const withGrantedClaims =
  (store: UserRecordStore, granted: boolean[]): UserRecordStore['claim'] =>
  async (key, event, now) => {
    const claim = await store.claim(key, event, now);
    if (event.lane === 'engagement') granted.push(claim.claimed);
    return claim;
  };

describe('worker: LINE engagement → Capillary behavioural events', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  describe('with rules (instore+line)', () => {
    beforeEach(async () => {
      harness = await startWorkerHarness({ engagement: engagementFor(), lineStandIn: { profiles: {} } });
    });

    it('posts a matched tap of a known customer with its mapped attributes', async () => {
      const { userId, customerId } = await follower(harness);
      const tap = checkin(userId, 2000);
      const response = await harness.run([tap]);
      expect(response.batchItemFailures).toEqual([]);
      expect(posted(harness).map((event) => event.body)).toEqual([
        {
          event_name: 'line_checkin',
          external_event_id: tap.webhookEventId,
          eventDateTime: '1970-01-01 00:00:02',
          customer_id: String(customerId),
          postback_data: 'action=checkin&store=2000',
        },
      ]);
      expect(outcomes(harness).at(-1)).toEqual({ result: 'engagement', event: 'line_checkin', reason: 'posted' });
    });

    it('posts each event once under redelivery and re-queue, and an older event after a newer one', async () => {
      const { userId } = await follower(harness);
      const [older, newer] = [checkin(userId, 2000), checkin(userId, 3000)];
      await harness.run([newer]);
      await harness.run([redelivery(newer)], 1); // LINE redelivers: a new SQS message
      await harness.run([newer], 2); // SQS re-queues the same message
      await harness.run([older]); // LINE's order is not guaranteed
      await harness.run([redelivery(older)]);
      expect(
        posted(harness)
          .map((event) => event.externalEventId)
          .sort(),
      ).toEqual([older.webhookEventId, newer.webhookEventId].sort());
      expect(harness.capillary.state().behaviouralEvents.duplicates).toEqual({});
      expect(outcomes(harness).filter((outcome) => outcome?.result === 'engagement')).toEqual([
        { result: 'engagement', event: 'line_checkin', reason: 'posted' },
        { result: 'engagement', event: 'line_checkin', reason: 'already-posted' },
        { result: 'engagement', event: 'line_checkin', reason: 'already-posted' },
        { result: 'engagement', event: 'line_checkin', reason: 'posted' },
        { result: 'engagement', event: 'line_checkin', reason: 'already-posted' },
      ]);
    });

    it('never makes a follow or unfollow stale, nor is made stale by them (its own lane)', async () => {
      const userId = lineUserId();
      await harness.run([checkin(userId, 5000)]); // registers the user, then posts
      await harness.run([followEvent(userId, 1000), unfollowEvent(userId, 2000)]);
      await harness.run([checkin(userId, 1500)]);
      expect(posted(harness)).toHaveLength(2);
      expect(outcomes(harness).map((outcome) => outcome?.result)).toEqual([
        'engagement',
        'applied',
        'applied',
        'engagement',
      ]);
      expect(await harness.store.read({ destination: DESTINATION, userId })).toMatchObject({ subscription: 'OPTOUT' });
    });

    it('posts for a known customer while another event holds the record, and leaves that claim alone', async () => {
      // Prepare: the user's unfollow has claimed the record (its worker is mid-call to Capillary)
      const { userId, customerId } = await follower(harness);
      const key = { destination: DESTINATION, userId };
      const unfollow = unfollowEvent(userId, 3000);
      expect((await harness.store.claim(key, eventFactsOf(unfollow))).claimed).toBe(true);
      // Act
      const response = await harness.run([checkin(userId, 2000)]);
      // Assess: posted at once, not turned back; the unfollow still holds the record and then applies
      expect(response.batchItemFailures).toEqual([]);
      expect(posted(harness)).toMatchObject([{ customerId: String(customerId) }]);
      expect(await harness.store.read(key)).toMatchObject({ pendingEventId: unfollow.webhookEventId });
      expect((await harness.run([unfollow])).batchItemFailures).toEqual([]);
      expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', subscription: 'OPTOUT' });
    });

    it('takes no claim of a user whose follow registered them between the tap’s read and its claim', async () => {
      // Prepare: the user's follow runs to its end just after the tap read the record (no customer then)
      const userId = lineUserId();
      const { store } = harness.deps;
      const engagementClaims: boolean[] = [];
      let followed = false;
      harness.deps.store = {
        complete: store.complete.bind(store),
        forgetInFlight: store.forgetInFlight.bind(store),
        claim: withGrantedClaims(store, engagementClaims),
        read: async (key) => {
          const record = await store.read(key);
          if (!followed && (followed = true)) await harness.run([followEvent(userId, 1000)]);
          return record;
        },
      };
      // Act
      const response = await harness.run([checkin(userId, 2000)]);
      // Assess: the tap's claim refused (the user had a customer by then), and the event posted for that customer
      expect(response.batchItemFailures).toEqual([]);
      const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
      expect(others).toEqual([]);
      expect(engagementClaims).toEqual([false]);
      expect(posted(harness)).toMatchObject([{ customerId: String(customer!.id) }]);
    });

    it('registers an unknown user first, then posts for the new customer', async () => {
      const userId = lineUserId();
      await harness.run([checkin(userId, 2000)]);
      const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
      expect(others).toHaveLength(0);
      expect(posted(harness)).toMatchObject([{ customerId: String(customer!.id), knownCustomer: true }]);
      expect(await harness.store.read({ destination: DESTINATION, userId })).toMatchObject({
        customerId: customer!.id,
      });
    });

    it('leaves unmapped events and link postbacks to their own routes', async () => {
      const userId = lineUserId();
      await harness.run([postbackEvent(userId, 2000, 'action=other'), textMessageEvent(userId, 2100, 'hello')]);
      await harness.run([textMessageEvent(userId, 2200, 'STAMP'), postbackEvent(userId, 2300, 'action=link')]);
      expect(posted(harness).map((event) => event.eventName)).toEqual(['line_keyword_stamp']);
      expect(outcomes(harness).map((outcome) => outcome?.result)).toEqual(['ignored', 'ignored', 'engagement', 'link']);
    });

    it('acknowledges an event Capillary refuses as bad input, counted, without retrying it', async () => {
      const { userId } = await follower(harness);
      harness.capillary.refuseBehaviouralEvents({ times: 1 });
      const response = await harness.run([checkin(userId, 2000)]);
      expect(response.batchItemFailures).toEqual([]);
      expect(posted(harness)).toHaveLength(0);
      expect(outcomes(harness).at(-1)).toEqual({ result: 'engagement', event: 'line_checkin', reason: 'refused' });
    });

    it('skips a user Capillary deleted on a PII request until a new follow registers them again', async () => {
      const { userId, customerId } = await follower(harness);
      const deletion = identityEventId('n-1', DESTINATION, userId);
      await harness.run([identityEvent(userId, { type: CAPILLARY_DELETE_TYPE, customerId }, deletion, 1500)]);
      await harness.run([checkin(userId, 2000)]);
      expect(posted(harness)).toHaveLength(0);
      expect(outcomes(harness).at(-1)).toEqual({ result: 'engagement', event: 'line_checkin', reason: 'unknown-user' });
      await harness.run([followEvent(userId, 3000), checkin(userId, 4000)]);
      const [again] = harness.capillary.customersWithIdentifier('line', userId);
      expect(posted(harness).map((event) => event.customerId)).toEqual([String(again!.id)]);
    });

    it('never puts the LINE user id, display name or message text in any posted body', async () => {
      const { userId } = await follower(harness);
      const events: LineWebhookEvent[] = [checkin(userId, 2000), textMessageEvent(userId, 2100, 'STAMP')];
      await harness.run(events);
      const bodies = posted(harness).map((event) => JSON.stringify(event.body));
      expect(bodies).toHaveLength(2);
      for (const body of bodies) {
        expect(body).not.toContain(userId);
        expect(body).not.toContain('Somchai');
        expect(body).not.toContain('STAMP');
      }
    });
  });

  it('makes ONE customer of an unknown user whose follow (events queue) and tap (engagement queue) run at once', async () => {
    // Prepare: Capillary slow enough that the two invocations overlap on each user's record
    harness = await startWorkerHarness({
      engagement: engagementFor(),
      lineStandIn: { profiles: {} },
      capillaryStandIn: { latencyMs: 50 },
    });
    const users = Array.from({ length: 4 }, () => lineUserId());
    let pending = [users.map((userId) => followEvent(userId, 1000)), users.map((userId) => checkin(userId, 2000))];
    // Act: each queue's event source invokes the worker with its own batch; a record whose user is claimed is retried
    for (let receive = 1; pending.some((batch) => batch.length > 0) && receive <= 5; receive += 1) {
      const responses = await Promise.all(pending.map((batch) => harness.run(batch, receive)));
      const failedIds = new Set(
        responses.flatMap((response) => response.batchItemFailures.map((f) => f.itemIdentifier)),
      );
      const failedEvents = new Set(
        harness.settled.filter((settled) => failedIds.has(settled.messageId)).map((s) => s.webhookEventId),
      );
      pending = pending.map((batch) => batch.filter((event) => failedEvents.has(event.webhookEventId)));
    }
    // Assess
    expect(pending).toEqual([[], []]);
    for (const userId of users) {
      const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
      expect(others).toHaveLength(0);
      expect(await harness.store.read({ destination: DESTINATION, userId })).toMatchObject({
        customerId: customer!.id,
        subscription: 'OPTIN',
      });
    }
    expect(posted(harness)).toHaveLength(users.length);
  });

  it('fails the event (retry, then the DLQ) while the ingest URL answers 429', async () => {
    harness = await startWorkerHarness({
      engagement: engagementFor(),
      capillaryStandIn: { behaviouralEventsRateLimitPerMinute: 1 },
    });
    const { userId } = await follower(harness);
    const [first, second] = [checkin(userId, 2000), checkin(userId, 3000)];
    expect((await harness.run([first])).batchItemFailures).toEqual([]);
    expect((await harness.run([second])).batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-1)?.error?.name).toBe('BehaviouralEventsUnavailableError');
    expect(posted(harness)).toHaveLength(1);
    // The failed tap holds nothing: the user's unfollow (events queue) applies at once, not after the claim expires
    expect((await harness.run([unfollowEvent(userId, 4000)])).batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', subscription: 'OPTOUT' });
  });

  it('a tap of an unknown user whose post fails keeps the customer it registered, and holds no claim', async () => {
    harness = await startWorkerHarness({
      engagement: engagementFor(),
      capillaryStandIn: { behaviouralEventsRateLimitPerMinute: 1 },
    });
    const { userId } = await follower(harness);
    expect((await harness.run([checkin(userId, 2000)])).batchItemFailures).toEqual([]);
    const stranger = lineUserId();
    // Act: registered, then the ingest refuses (429)
    expect((await harness.run([checkin(stranger, 3000)])).batchItemFailures).toHaveLength(1);
    // Assess
    const [customer, ...others] = harness.capillary.customersWithIdentifier('line', stranger);
    expect(others).toEqual([]);
    const record = await harness.store.read({ destination: DESTINATION, userId: stranger });
    expect(record?.customerId).toBe(customer!.id);
    expect(record?.pendingEventId).toBeUndefined();
  });

  it('counts and skips an unknown user in on-link mode', async () => {
    harness = await startWorkerHarness({ engagement: engagementFor(), capillary: { registrationMode: 'on-link' } });
    const userId = lineUserId();
    const response = await harness.run([checkin(userId, 2000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.capillary.customersWithIdentifier('line', userId)).toHaveLength(0);
    expect(posted(harness)).toHaveLength(0);
    expect(outcomes(harness)).toEqual([{ result: 'engagement', event: 'line_checkin', reason: 'unknown-user' }]);
  });

  it('posts nothing without rules: engagement events stay ignored (today’s behaviour)', async () => {
    harness = await startWorkerHarness();
    const { userId } = await follower(harness);
    await harness.run([checkin(userId, 2000)]);
    expect(outcomes(harness).at(-1)).toEqual({ result: 'ignored', reason: 'unsupported-type' });
    expect(posted(harness)).toHaveLength(0);
  });
});
