import { type AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type Admission, type LineEventFacts, type UserSyncState, admission } from '../../../lib/domain/sync-rules';
import { ClaimLostError } from '../../../lib/store/errors';
import { UserSyncStore } from '../../../lib/store/user-sync-store';
import { createUsersTable } from '../../../local/worker-rig';

const NOW = 1_000_000;
const CLAIM_TTL_MS = 60_000;
const key = { destination: 'Ubot', userId: 'Uuser' };
const event = (webhookEventId: string, timestamp: number): LineEventFacts => ({ type: 'follow', webhookEventId, timestamp, userId: key.userId });

/** The record as the store writes it (attribute names of user-sync-store.ts). */
function itemOf(state: UserSyncState): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { pk: { S: UserSyncStore.partitionKey(key) } };
  const n = (name: string, value: number | undefined) => { if (value !== undefined) item[name] = { N: String(value) }; };
  const s = (name: string, value: string | undefined) => { if (value !== undefined) item[name] = { S: value }; };
  n('lastEventTs', state.lastEventTimestamp);
  s('lastEventId', state.lastEventId);
  n('claimTs', state.pendingEventTimestamp);
  s('claimEventId', state.pendingEventId);
  n('claimExpiresAt', state.pendingExpiresAt);
  return item;
}

const applied = { lastEventTimestamp: 2000, lastEventId: 'E2' };
const liveClaim = { pendingEventTimestamp: 3000, pendingEventId: 'E3', pendingExpiresAt: NOW + 1 };
const expiredClaim = { pendingEventTimestamp: 3000, pendingEventId: 'E3', pendingExpiresAt: NOW - 1 };

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
  ['older than an expired claim (its event may wait in the DLQ)', { ...applied, ...expiredClaim }, event('E25', 2500), 'stale'],
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
    if (!claim.claimed) expect(claim.state).toEqual({ ...stored, customerId: undefined, subscription: undefined });
    else expect(claim.state).toMatchObject({ pendingEventId: facts.webhookEventId, pendingExpiresAt: NOW + CLAIM_TTL_MS });
  });

  it('records the applied change and closes the claim', async () => {
    // Prepare
    const facts = event('E1', 1000);
    await store.claim(key, facts, NOW);
    // Act
    await store.complete(key, facts, { customerId: 42, subscription: 'OPTIN' }, NOW + 5);
    // Assess
    expect(await store.read(key)).toEqual({
      customerId: 42, subscription: 'OPTIN', lastEventTimestamp: 1000, lastEventId: 'E1',
      pendingEventTimestamp: undefined, pendingEventId: undefined, pendingExpiresAt: undefined,
    });
    const { Item } = await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: UserSyncStore.partitionKey(key) } } }));
    expect(Item?.expiresAt).toBeUndefined(); // the abandoned-claim TTL goes with the claim
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
