import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';

import { admission, type Admission, type LineEventFacts, type UserSyncState } from '../../../lib/domain/sync-rules';
import { ClaimLostError } from '../../../lib/store/errors';
import { UserSyncStore } from '../../../lib/store/user-sync-store';
import { createUsersTable } from '../../../local/rigs/worker-rig';

const NOW = 1_000_000;
const CLAIM_TTL_MS = 60_000;
const key = { destination: 'Ubot', userId: 'Uuser' };
const event = (webhookEventId: string, timestamp: number): LineEventFacts => ({
  type: 'follow',
  webhookEventId,
  timestamp,
  userId: key.userId,
});
const linkEvent = (webhookEventId: string, timestamp: number): LineEventFacts => ({
  ...event(webhookEventId, timestamp),
  type: 'accountLink',
  lane: 'link',
});

const identityEvent = (webhookEventId: string, timestamp: number): LineEventFacts => ({
  ...event(webhookEventId, timestamp),
  type: 'capillary.merge',
  lane: 'identity',
});

/** The record as the store writes it (attribute names of user-sync-record.ts). */
function itemOf(state: UserSyncState): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { pk: { S: UserSyncStore.partitionKey(key) } };
  const n = (name: string, value: number | undefined) => {
    if (value !== undefined) item[name] = { N: String(value) };
  };
  const s = (name: string, value: string | undefined) => {
    if (value !== undefined) item[name] = { S: value };
  };
  n('lastEventTs', state.lastEventTimestamp);
  s('lastEventId', state.lastEventId);
  n('claimTs', state.pendingEventTimestamp);
  s('claimEventId', state.pendingEventId);
  n('claimExpiresAt', state.pendingExpiresAt);
  s('claimLane', state.pendingLane);
  n('lastLinkEventTs', state.lastLinkEventTimestamp);
  s('lastLinkEventId', state.lastLinkEventId);
  for (const [lane, inFlight] of Object.entries(state.inFlight ?? {})) {
    n(`${lane}InFlightTs`, inFlight.timestamp);
    s(`${lane}InFlightId`, inFlight.eventId);
  }
  n('lastIdentityEventTs', state.lastIdentityEventTimestamp);
  s('lastIdentityEventId', state.lastIdentityEventId);
  return item;
}

const applied = { lastEventTimestamp: 2000, lastEventId: 'E2' };
const liveClaim = { pendingEventTimestamp: 3000, pendingEventId: 'E3', pendingExpiresAt: NOW + 1 };
const expiredClaim = { pendingEventTimestamp: 3000, pendingEventId: 'E3', pendingExpiresAt: NOW - 1 };
const linked = { lastLinkEventTimestamp: 2000, lastLinkEventId: 'L2' };
const expiredLinkClaim = {
  pendingEventTimestamp: 3000,
  pendingEventId: 'L3',
  pendingExpiresAt: NOW - 1,
  pendingLane: 'link' as const,
};
/** Follow E3 claimed and its worker died; link L4 took the expired claim over, and its worker died too. */
const followInFlightUnderLinkClaim: UserSyncState = {
  ...applied,
  inFlight: { sync: { eventId: 'E3', timestamp: 3000 }, link: { eventId: 'L4', timestamp: 4000 } },
  pendingEventTimestamp: 4000,
  pendingEventId: 'L4',
  pendingLane: 'link',
};
/** Unlink L3 claimed and its worker died; follow E4 took the expired claim over, and its worker died too. */
const linkInFlightUnderFollowClaim: UserSyncState = {
  ...applied,
  inFlight: { link: { eventId: 'L3', timestamp: 3000 }, sync: { eventId: 'E4', timestamp: 4000 } },
  pendingEventTimestamp: 4000,
  pendingEventId: 'E4',
  pendingLane: 'sync',
};
const expired = { pendingExpiresAt: NOW - 1 };
const live = { pendingExpiresAt: NOW + 1 };

/** Every branch of the ordering rule: [case, stored record (undefined = none), event, the rule's verdict]. */
const CASES: [string, UserSyncState | undefined, LineEventFacts, Admission][] = [
  ['first event of a user', undefined, event('E1', 1000), 'apply'],
  ['newer than the last applied', applied, event('E4', 4000), 'apply'],
  ['the last applied again', applied, event('E2', 2000), 'duplicate'],
  ['as old as the last applied, another event', applied, event('E9', 2000), 'stale'],
  ['older than the last applied', applied, event('E1', 1000), 'stale'],
  ['its own live claim (retry after a crash)', { ...applied, ...liveClaim }, event('E3', 3000), 'apply'],
  ['newer, while another event holds a live claim', { ...applied, ...liveClaim }, event('E4', 4000), 'held'],
  ['older than a live claim', { ...applied, ...liveClaim }, event('E25', 2500), 'stale'],
  ['newer than an expired claim', { ...applied, ...expiredClaim }, event('E4', 4000), 'apply'],
  [
    'older than an expired claim (its event may wait in the DLQ)',
    { ...applied, ...expiredClaim },
    event('E25', 2500),
    'stale',
  ],
  ['a link older than the last applied follow (its own lane)', applied, linkEvent('L1', 1000), 'apply'],
  ['a link older than the last applied link', { ...applied, ...linked }, linkEvent('L1', 1000), 'stale'],
  ['the last applied link again', { ...applied, ...linked }, linkEvent('L2', 2000), 'duplicate'],
  ['a follow older than the last applied link', { ...applied, ...linked }, event('E25', 2500), 'apply'],
  ['a link while a follow holds a live claim', { ...applied, ...liveClaim }, linkEvent('L4', 4000), 'held'],
  [
    'a link older than an expired follow claim (the other lane)',
    { ...applied, ...expiredClaim },
    linkEvent('L1', 1000),
    'apply',
  ],
  [
    'a follow older than an expired link claim (the other lane)',
    { ...applied, ...expiredLinkClaim },
    event('E25', 2500),
    'apply',
  ],
  // Cross-lane takeovers: the lane's in-flight event outlives its claim.
  [
    "a follow older than the sync lane's in-flight event, whose claim a link took over",
    { ...followInFlightUnderLinkClaim, ...expired },
    event('E25', 2500),
    'stale',
  ],
  [
    "the sync lane's in-flight event again (its retry), the link's claim expired",
    { ...followInFlightUnderLinkClaim, ...expired },
    event('E3', 3000),
    'apply',
  ],
  [
    "the sync lane's in-flight event again, the link's claim live",
    { ...followInFlightUnderLinkClaim, ...live },
    event('E3', 3000),
    'held',
  ],
  [
    "a follow newer than the sync lane's in-flight event, the link's claim expired",
    { ...followInFlightUnderLinkClaim, ...expired },
    event('E5', 5000),
    'apply',
  ],
  [
    "a link older than the link lane's in-flight event, whose claim a follow took over (it waits for that event's outcome)",
    { ...linkInFlightUnderFollowClaim, ...expired },
    linkEvent('L1', 1000),
    'held',
  ],
  [
    "a link newer than the link lane's in-flight event (the lane waits for it), the follow's claim expired",
    { ...linkInFlightUnderFollowClaim, ...expired },
    linkEvent('L5', 5000),
    'held',
  ],
  [
    "the link lane's in-flight event again (its retry), the follow's claim expired",
    { ...linkInFlightUnderFollowClaim, ...expired },
    linkEvent('L3', 3000),
    'apply',
  ],
  [
    'a link newer than an expired link claim (the lane waits for it)',
    { ...applied, ...expiredLinkClaim },
    linkEvent('L4', 4000),
    'held',
  ],
  [
    "a link newer than the link lane's in-flight event, no claim left",
    { ...applied, inFlight: { link: { eventId: 'L3', timestamp: 3000 } } },
    linkEvent('L4', 4000),
    'held',
  ],
  [
    "a follow older than the sync lane's in-flight event, no claim left (the link completed)",
    { ...applied, inFlight: { sync: { eventId: 'E3', timestamp: 3000 } } },
    event('E25', 2500),
    'stale',
  ],
  [
    "a follow as old as the sync lane's in-flight event, another event",
    { ...applied, inFlight: { sync: { eventId: 'E3', timestamp: 3000 } } },
    event('E9', 3000),
    'stale',
  ],
  [
    "the sync lane's in-flight event again, no claim left",
    { ...applied, inFlight: { sync: { eventId: 'E3', timestamp: 3000 } } },
    event('E3', 3000),
    'apply',
  ],
  [
    "a follow older than the link lane's in-flight event (another lane's says nothing)",
    { ...applied, inFlight: { link: { eventId: 'L3', timestamp: 3000 } } },
    event('E25', 2500),
    'apply',
  ],
  [
    'a notification older than the last applied follow and link (its own lane)',
    { ...applied, ...linked },
    identityEvent('N1', 1000),
    'apply',
  ],
  [
    'a notification older than the last applied notification',
    { ...applied, lastIdentityEventTimestamp: 2000, lastIdentityEventId: 'N2' },
    identityEvent('N1', 1000),
    'stale',
  ],
  ['a notification while a follow holds a live claim', { ...applied, ...liveClaim }, identityEvent('N4', 4000), 'held'],
  [
    'a notification older than an expired link claim',
    { ...applied, ...expiredLinkClaim },
    identityEvent('N1', 1000),
    'apply',
  ],
  [
    'a follow older than an expired notification claim',
    { ...applied, ...expiredClaim, pendingLane: 'identity' },
    event('E25', 2500),
    'apply',
  ],
];

/**
 * dynalite by default; DYNAMODB_LOCAL_ENDPOINT=http://localhost:8000 runs the same tests against AWS's DynamoDB Local
 * (or any DynamoDB endpoint the SDK's credentials reach), to check dynalite reads the expressions as DynamoDB does.
 */
const endpoint = process.env.DYNAMODB_LOCAL_ENDPOINT;

describe(`UserSyncStore.claim agrees with the domain rule (${endpoint ?? 'dynalite'})`, () => {
  const dynamo = new DynamoDBClient(endpoint ? { endpoint } : {});
  let tableName: string;
  let store: UserSyncStore;
  beforeEach(async () => {
    tableName = await createUsersTable(dynamo);
    store = new UserSyncStore(dynamo, tableName, CLAIM_TTL_MS);
  });
  afterAll(() => dynamo.destroy());

  it.each(CASES)('%s', async (_name, stored, facts, verdict) => {
    // Prepare
    if (stored) await dynamo.send(new PutItemCommand({ TableName: tableName, Item: itemOf(stored) }));
    // Act
    const claim = await store.claim(key, facts, NOW);
    // Assess: the rule says what it says, and the condition expression grants exactly the claims it allows
    expect(admission(facts, stored ?? {}, NOW)).toBe(verdict);
    expect(claim.claimed).toBe(verdict === 'apply');
    // A refused claim answers the record that refused it; a granted one the record as it was before it.
    expect(claim.state).toMatchObject(stored ?? {});
  });

  it('records the applied change and closes the claim', async () => {
    // Prepare
    const facts = event('E1', 1000);
    await store.claim(key, facts, NOW);
    // Act
    await store.complete(key, facts, { customerId: 42, subscription: 'OPTIN' }, NOW + 5);
    // Assess
    expect(await store.read(key)).toEqual({
      customerId: 42,
      subscription: 'OPTIN',
      lastEventTimestamp: 1000,
      lastEventId: 'E1',
      pendingEventTimestamp: undefined,
      pendingEventId: undefined,
      pendingExpiresAt: undefined,
    });
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: UserSyncStore.partitionKey(key) } } }),
    );
    expect(Item?.expiresAt).toBeUndefined(); // the abandoned-claim TTL goes with the claim
  });

  it('never sets the TTL attribute on a user record: a claimed-then-abandoned record that maps a customer stays', async () => {
    // Prepare: a user with a customer; a later follow claims and its worker dies
    await store.claim(key, event('E1', 1000), NOW);
    await store.complete(key, event('E1', 1000), { customerId: 42, subscription: 'OPTIN' }, NOW);
    // Act
    await store.claim(key, event('E2', 2000), NOW + 1);
    // Assess
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: UserSyncStore.partitionKey(key) } } }),
    );
    expect(Item).toMatchObject({ customerId: { N: '42' }, claimEventId: { S: 'E2' } });
    expect(Item?.expiresAt).toBeUndefined();
  });

  it('writes the customer → users index keys with the ids and removes them with the ids', async () => {
    // Prepare
    const owned = { ...key, owner: { channel: 'th', capillaryOrg: 'jp' } };
    const itemNow = async () =>
      (
        await dynamo.send(
          new GetItemCommand({ TableName: tableName, Key: { pk: { S: UserSyncStore.partitionKey(key) } } }),
        )
      ).Item;
    await store.claim(owned, linkEvent('L1', 1000), NOW);
    // Act
    await store.complete(owned, linkEvent('L1', 1000), { customerId: 7, linkedCustomerId: 7 }, NOW);
    // Assess
    expect(await itemNow()).toMatchObject({
      customerKey: { S: 'jp#7' },
      memberKey: { S: 'jp#7' },
      channel: { S: 'th' },
    });
    // Act: forgotten
    await store.claim(owned, identityEvent('N1', 2000), NOW);
    await store.complete(
      owned,
      identityEvent('N1', 2000),
      { customerId: null, linkedCustomerId: null, link: null, subscription: null, linkRefs: null, forgottenAt: 1500 },
      NOW,
    );
    // Assess
    const item = await itemNow();
    expect(item).toMatchObject({ forgotten: { BOOL: true }, forgottenAt: { N: '1500' } });
    for (const gone of ['customerId', 'customerKey', 'linkedCustomerId', 'memberKey', 'subscription', 'linkStatus'])
      expect(item?.[gone]).toBeUndefined();
    expect(await store.read(key)).toMatchObject({ forgottenAt: 1500, lastIdentityEventId: 'N1' });
  });

  it("puts back the other lane's expired claim it took over, so that lane's older events stay stale", async () => {
    // Prepare: follow E3 claimed and died; link L1 takes the expired claim over
    await store.claim(key, event('E3', 3000), NOW);
    const later = NOW + CLAIM_TTL_MS + 1;
    const link = await store.claim(key, linkEvent('L1', 1000), later);
    expect(link).toMatchObject({ claimed: true, takenOver: { eventId: 'E3', timestamp: 3000, lane: 'sync' } });
    // Act
    await store.complete(
      key,
      linkEvent('L1', 1000),
      { linkedCustomerId: 7, restoreClaim: link.claimed ? link.takenOver : undefined },
      later,
    );
    // Assess: an older follow is stale against E3 again; E3's own retry may claim
    expect(await store.read(key)).toMatchObject({
      linkedCustomerId: 7,
      lastLinkEventId: 'L1',
      pendingEventId: 'E3',
      pendingLane: 'sync',
    });
    expect((await store.claim(key, event('E2', 2000), later)).claimed).toBe(false);
    expect((await store.claim(key, event('E3', 3000), later)).claimed).toBe(true);
  });

  it('releases a claim without recording the event when asked (a refused link)', async () => {
    await store.claim(key, linkEvent('L5', 5000), NOW);
    await store.complete(key, linkEvent('L5', 5000), { recordEvent: false }, NOW);
    expect(await store.read(key)).toMatchObject({ lastLinkEventTimestamp: undefined, pendingEventId: undefined });
    expect((await store.claim(key, linkEvent('L4', 4000), NOW)).claimed).toBe(true);
  });

  it("forgets an event's in-flight mark on a record it does not hold, and no other event's", async () => {
    // Prepare: a link claims and dies; a follow takes the expired claim over (the link's mark stays)
    await store.claim(key, linkEvent('L2', 2000), NOW);
    const later = NOW + CLAIM_TTL_MS + 1;
    expect((await store.claim(key, event('F3', 3000), later)).claimed).toBe(true);
    expect((await store.claim(key, linkEvent('L1', 1000), later + CLAIM_TTL_MS + 1)).claimed).toBe(false);
    // Act
    const otherForgotten = await store.forgetInFlight(key, linkEvent('L9', 9000));
    const ownForgotten = await store.forgetInFlight(key, linkEvent('L2', 2000));
    // Assess: only L2's mark went; the follow's claim stands; with it complete, an older link may claim again
    expect([otherForgotten, ownForgotten]).toEqual([false, true]);
    expect(await store.read(key)).toMatchObject({ pendingEventId: 'F3' });
    await store.complete(key, event('F3', 3000), {}, later);
    expect((await store.claim(key, linkEvent('L1', 1000), later)).claimed).toBe(true);
  });

  it('refuses to record a result once the claim was taken over', async () => {
    // Prepare: E1's claim expires and the newer E2 takes it
    await store.claim(key, event('E1', 1000), NOW);
    await store.claim(key, event('E2', 2000), NOW + CLAIM_TTL_MS + 1);
    // Act
    const completion = store.complete(key, event('E1', 1000), { subscription: 'OPTIN' });
    // Assess
    await expect(completion).rejects.toBeInstanceOf(ClaimLostError);
    await expect(completion).rejects.toMatchObject({ cause: { name: 'ConditionalCheckFailedException' } });
  });

  describe('a claim taken over by another lane is not forgotten when that lane dies too', () => {
    const afterExpiry = (steps: number) => NOW + steps * (CLAIM_TTL_MS + 1);
    const unlink = (webhookEventId: string, timestamp: number): LineEventFacts => ({
      ...linkEvent(webhookEventId, timestamp),
      type: 'postback',
    });

    it('sync Y claims and dies; link L takes the claim over and dies; the older sync X is stale', async () => {
      // Prepare
      expect((await store.claim(key, event('Y', 2000), afterExpiry(0))).claimed).toBe(true);
      const link = await store.claim(key, linkEvent('L', 3000), afterExpiry(1));
      expect(link).toMatchObject({ claimed: true, takenOver: { eventId: 'Y', lane: 'sync' } });
      // Act
      const older = await store.claim(key, event('X', 1000), afterExpiry(2));
      // Assess
      expect(older.claimed).toBe(false);
      expect(admission(event('X', 1000), older.state, afterExpiry(2))).toBe('stale');
      expect((await store.claim(key, event('Y', 2000), afterExpiry(2))).claimed).toBe(true); // Y's own retry
    });

    it.each([
      ['recorded', 'stale', true],
      ['released (a failed link: nothing changed)', 'apply', false],
    ])(
      'unlink U claims and dies; follow F takes the claim over and dies; the older link A waits until U is %s',
      async (_outcome, verdict, recorded) => {
        // Prepare
        expect((await store.claim(key, unlink('U', 2000), afterExpiry(0))).claimed).toBe(true);
        const follow = await store.claim(key, event('F', 3000), afterExpiry(1));
        expect(follow).toMatchObject({ claimed: true, takenOver: { eventId: 'U', lane: 'link' } });
        // Act
        const older = await store.claim(key, linkEvent('A', 1000), afterExpiry(2));
        // Assess
        expect(older.claimed).toBe(false);
        expect(admission(linkEvent('A', 1000), older.state, afterExpiry(2))).toBe('held');
        // U's retry ends, recorded or released
        expect((await store.claim(key, unlink('U', 2000), afterExpiry(3))).claimed).toBe(true);
        await store.complete(key, unlink('U', 2000), recorded ? {} : { recordEvent: false }, afterExpiry(3));
        const after = await store.claim(key, linkEvent('A', 1000), afterExpiry(3));
        expect(after.claimed).toBe(verdict === 'apply');
        expect(admission(linkEvent('A', 1000), after.state, afterExpiry(3))).toBe(verdict);
      },
    );

    it('keeps the in-flight event when the other lane completes without putting the claim back', async () => {
      // Prepare: follow Y dies; link L takes over and completes on a retry that no longer knows Y's claim
      await store.claim(key, event('Y', 2000), afterExpiry(0));
      await store.claim(key, linkEvent('L', 3000), afterExpiry(1));
      await store.complete(key, linkEvent('L', 3000), { linkedCustomerId: 7 }, afterExpiry(1));
      // Act
      const older = await store.claim(key, event('X', 1000), afterExpiry(1));
      // Assess
      expect(older).toMatchObject({ claimed: false, state: { inFlight: { sync: { eventId: 'Y', timestamp: 2000 } } } });
      expect((await store.claim(key, event('Y', 2000), afterExpiry(1))).claimed).toBe(true);
    });

    it('recording an event ends its lane in flight, not the other lane', async () => {
      await store.claim(key, linkEvent('L', 3000), afterExpiry(0));
      await store.claim(key, event('Y', 2000), afterExpiry(1));
      await store.complete(key, event('Y', 2000), { subscription: 'OPTIN' }, afterExpiry(1));
      expect((await store.read(key))?.inFlight).toEqual({ link: { eventId: 'L', timestamp: 3000 } });
      expect((await store.claim(key, linkEvent('K', 2500), afterExpiry(1))).claimed).toBe(false);
    });
  });

  describe('the link lane waits for its unrecorded event', () => {
    it('link L2 dies; the newer L3 is held until L2 is recorded, then applies', async () => {
      // Prepare
      await store.claim(key, linkEvent('L2', 2000), NOW);
      const later = NOW + CLAIM_TTL_MS + 1;
      // Act + Assess
      const newer = await store.claim(key, linkEvent('L3', 3000), later);
      expect(newer.claimed).toBe(false);
      expect(admission(linkEvent('L3', 3000), newer.state, later)).toBe('held');
      expect((await store.claim(key, linkEvent('L2', 2000), later)).claimed).toBe(true); // L2's retry
      await store.complete(key, linkEvent('L2', 2000), { linkedCustomerId: 7 }, later);
      expect((await store.claim(key, linkEvent('L3', 3000), later)).claimed).toBe(true);
    });

    it('a released link (refused) leaves nothing in flight: an older link of the user may still apply', async () => {
      await store.claim(key, linkEvent('L3', 3000), NOW);
      await store.complete(key, linkEvent('L3', 3000), { recordEvent: false }, NOW);
      expect((await store.read(key))?.inFlight).toBeUndefined();
      expect((await store.claim(key, linkEvent('L2', 2000), NOW)).claimed).toBe(true);
    });
  });
});
