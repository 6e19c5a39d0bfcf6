import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { LineEventFacts } from '../../../lib/domain/sync-rules';
import { DynamoCustomerIndex } from '../../../lib/store/customer-index';
import { UserSyncStore, type AppliedChange, type LineUserKey } from '../../../lib/store/user-sync-store';
import { createUsersTable } from '../../../local/rigs/worker-rig';

describe('DynamoCustomerIndex (dynalite, the table of serverless.yml)', () => {
  const dynamo = new DynamoDBClient({});
  let store: UserSyncStore;
  let index: DynamoCustomerIndex;
  let timestamp = 0;
  beforeEach(async () => {
    const tableName = await createUsersTable(dynamo);
    store = new UserSyncStore(dynamo, tableName, 60_000);
    index = new DynamoCustomerIndex(dynamo, tableName);
  });
  afterAll(() => dynamo.destroy());

  const userKey = (userId: string, channel = 'default', capillaryOrg = 'default'): LineUserKey => ({
    destination: `Ubot${channel}`,
    userId,
    owner: { channel, capillaryOrg },
  });
  async function apply(key: LineUserKey, change: AppliedChange): Promise<void> {
    const facts: LineEventFacts = { type: 'follow', webhookEventId: `E${++timestamp}`, timestamp, lane: 'sync' };
    await store.claim(key, facts);
    await store.complete(key, facts, change);
  }

  it('finds every user naming the customer, as customer or as linked member, once each, with its channel', async () => {
    // Prepare
    await apply(userKey('Ua'), { customerId: 10 });
    await apply(userKey('Ub', 'th'), { customerId: 11, linkedCustomerId: 10 });
    await apply(userKey('Uc'), { customerId: 10, linkedCustomerId: 10 });
    await apply(userKey('Ud', 'jp', 'jp'), { customerId: 10 }); // another org's customer 10
    await apply(userKey('Ue'), { customerId: 12 });
    // Act
    const users = await index.usersOf('default', 10);
    // Assess
    expect(users.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
      { channel: 'default', destination: 'Ubotdefault', userId: 'Ua' },
      { channel: 'th', destination: 'Ubotth', userId: 'Ub' },
      { channel: 'default', destination: 'Ubotdefault', userId: 'Uc' },
    ]);
    expect(await index.usersOf('jp', 10)).toEqual([{ channel: 'jp', destination: 'Ubotjp', userId: 'Ud' }]);
  });

  it('drops a user whose record no longer names the customer', async () => {
    // Prepare
    await apply(userKey('Ua'), { customerId: 10, linkedCustomerId: 10 });
    // Act
    await apply(userKey('Ua'), { customerId: 20, linkedCustomerId: null });
    // Assess
    expect(await index.usersOf('default', 10)).toEqual([]);
    expect(await index.usersOf('default', 20)).toHaveLength(1);
  });

  it('finds a user whose record replaced the customer deleted on a PII request, until the memory goes', async () => {
    // Prepare: a follow found customer 10 deleted and registered 20
    await apply(userKey('Ua', 'th'), { customerId: 20, replaced: { customerId: 10, at: 5 } });
    // Act
    const users = await index.usersOf('default', 10);
    // Assess
    expect(users).toEqual([{ channel: 'th', destination: 'Ubotth', userId: 'Ua' }]);
    expect(await store.read(userKey('Ua', 'th'))).toMatchObject({
      customerId: 20,
      replaced: { customerId: 10, at: 5 },
    });
    // Act: the deletion's notice came (kept or forgotten, the memory goes)
    await apply(userKey('Ua', 'th'), { replaced: null });
    // Assess
    expect(await index.usersOf('default', 10)).toEqual([]);
    expect((await store.read(userKey('Ua', 'th')))?.replaced).toBeUndefined();
    expect(await index.usersOf('default', 20)).toHaveLength(1);
  });

  it('keeps a replacement with no follow time (an unfollow made it), dropping an older memory time', async () => {
    await apply(userKey('Ua'), { customerId: 20, replaced: { customerId: 10, at: 5 } });
    await apply(userKey('Ua'), { replaced: { customerId: 11 } });
    expect((await store.read(userKey('Ua')))?.replaced).toEqual({ customerId: 11 });
    expect(await index.usersOf('default', 11)).toHaveLength(1);
  });

  it('finds a record that names no customer since it found the deleted one (an unfollow found nobody)', async () => {
    await apply(userKey('Ua', 'tw'), { customerId: null, replaced: { customerId: 12 } });
    expect(await index.usersOf('default', 12)).toEqual([{ channel: 'tw', destination: 'Ubottw', userId: 'Ua' }]);
  });
});
