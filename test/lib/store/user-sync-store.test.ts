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

/** The record as the store writes it (attribute names of user-sync-store.ts). */
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

describe('UserSyncStore.claim agrees with the domain rule (dynalite)', () => {
  const dynamo = new DynamoDBClient({});
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
});
