import { DESTINATION, followEvent, lineUserId, redelivery, unfollowEvent } from '../../../../local/line-event-factory';
import {
  LINE_ACCOUNT_ID,
  startWorkerHarness,
  type RigCapillarySettings,
  type WorkerHarness,
} from '../../../../local/rigs/worker-rig';
import { subscriptionOf } from '../../../../local/standins/capillary-standin';

const BULK_PATH = '/v2/integrations/customer/upsert/bulk';
/** Capillary business calls (the OAuth token call excluded). */
const apiCalls = (harness: WorkerHarness) => harness.capillary.calls().filter((call) => call.path.startsWith('/v2/'));
const bulkCalls = (harness: WorkerHarness) => apiCalls(harness).filter((call) => call.path.startsWith(BULK_PATH));
const singleAdds = (harness: WorkerHarness) => apiCalls(harness).filter((call) => call.path === '/v2/customers');
const userKey = (userId: string) => ({ destination: DESTINATION, userId });

/** Each user: one customer, INSTORE + LINE profiles, opted in, and the user's record naming that customer. */
async function expectRegistered(harness: WorkerHarness, userId: string): Promise<void> {
  const customers = harness.capillary.customersWithIdentifier('line', userId);
  expect(customers).toHaveLength(1);
  const [customer] = customers as [(typeof customers)[number]];
  expect(customer.profiles.map((profile) => profile.source).sort()).toEqual(['INSTORE', 'LINE']);
  expect(subscriptionOf(harness.capillary.state(), customer.id, 'LINE', LINE_ACCOUNT_ID)).toEqual({
    BULK: 'OPTIN',
    TRANS: 'OPTIN',
  });
  expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: customer.id, subscription: 'OPTIN' });
}

describe('registeringInBulk: the new followers of a batch in one bulk upsert', () => {
  let harness: WorkerHarness;
  const start = async (capillary: RigCapillarySettings = { bulkCountsAs: 'request' }) => {
    harness = await startWorkerHarness({ capillary, lineStandIn: { profiles: {} } });
  };
  afterEach(() => harness.close());

  it('registers the batch’s new followers with one Capillary call, named from LINE, and records each', async () => {
    // Prepare
    await start();
    const users = Array.from({ length: 6 }, lineUserId);
    users.forEach((userId, index) => harness.line.setProfile(userId, { displayName: `Friend ${index}` }));
    // Act
    const response = await harness.run(users.map((userId) => followEvent(userId, 1000)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness).map((call) => call.path.split('?')[0])).toEqual([BULK_PATH]);
    for (const userId of users) await expectRegistered(harness, userId);
    const [customer] = harness.capillary.customersWithIdentifier('line', users[2]!);
    expect(customer!.profiles.map((profile) => profile.firstName)).toEqual(['Friend 2', 'Friend 2']);
    expect(harness.settled.map(({ outcome }) => outcome)).toEqual(
      users.map(() => expect.objectContaining({ result: 'applied', action: 'register' })),
    );
  });

  it('costs no Capillary call for a redelivered batch', async () => {
    // Prepare
    await start();
    const follows = [followEvent(lineUserId(), 1000), followEvent(lineUserId(), 1000)];
    await harness.run(follows);
    const callsBefore = apiCalls(harness).length;
    // Act
    const response = await harness.run(follows.map(redelivery), 2);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness)).toHaveLength(callsBefore);
    expect(harness.settled.slice(-2).map(({ outcome }) => outcome)).toEqual([
      { result: 'skipped', reason: 'duplicate' },
      { result: 'skipped', reason: 'duplicate' },
    ]);
  });

  it('registers a lone new follower on its own (no bulk call, no wait)', async () => {
    await start();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    expect(bulkCalls(harness)).toHaveLength(0);
    expect(singleAdds(harness)).toHaveLength(2);
    await expectRegistered(harness, userId);
  });

  it('applies a user’s later events in the batch after their registration, and leaves returning followers single', async () => {
    // Prepare: B already known (a returning follower: one subscription call)
    await start();
    const [a, b, c] = [lineUserId(), lineUserId(), lineUserId()];
    await harness.run([followEvent(b, 500)]);
    const callsBefore = apiCalls(harness).length;
    // Act
    const response = await harness.run([
      followEvent(a, 1000),
      followEvent(b, 1000),
      followEvent(c, 1000),
      unfollowEvent(a, 2000),
    ]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const calls = apiCalls(harness).slice(callsBefore);
    expect(calls.filter((call) => call.path.startsWith(BULK_PATH))).toHaveLength(1);
    // B's opt-in and A's opt-out: subscription calls of their own
    expect(calls.filter((call) => call.path.endsWith('/subscriptions'))).toHaveLength(2);
    const [customerOfA] = harness.capillary.customersWithIdentifier('line', a);
    expect(subscriptionOf(harness.capillary.state(), customerOfA!.id, 'LINE', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTOUT',
      TRANS: 'OPTOUT',
    });
    await expectRegistered(harness, c);
  });

  it('registers a record the bulk call rejects on its own, once', async () => {
    // Prepare
    await start();
    const [rejected, accepted] = [lineUserId(), lineUserId()];
    harness.capillary.rejectInBulk({ userIds: [rejected], code: 8013, times: 1 });
    // Act
    const response = await harness.run([followEvent(rejected, 1000), followEvent(accepted, 1000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(bulkCalls(harness)).toHaveLength(1);
    expect(singleAdds(harness)).toHaveLength(2);
    await expectRegistered(harness, rejected);
    await expectRegistered(harness, accepted);
  });

  it('registers every record on its own when the whole bulk call is refused', async () => {
    // Prepare
    await start();
    const users = [lineUserId(), lineUserId(), lineUserId()];
    harness.capillary.injectFault({ status: 500, times: 1, pathPrefix: BULK_PATH });
    // Act
    const response = await harness.run(users.map((userId) => followEvent(userId, 1000)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(singleAdds(harness)).toHaveLength(6);
    for (const userId of users) await expectRegistered(harness, userId);
  });

  it('repeats a bulk call whose answer was lost without making a second customer', async () => {
    // Prepare
    await start();
    const users = [lineUserId(), lineUserId(), lineUserId()];
    harness.capillary.injectFault({ kind: 'lost-response', reply: 'gateway-timeout', times: 1, pathPrefix: BULK_PATH });
    // Act
    const response = await harness.run(users.map((userId) => followEvent(userId, 1000)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(bulkCalls(harness)).toHaveLength(2);
    expect(singleAdds(harness)).toHaveLength(0);
    for (const userId of users) await expectRegistered(harness, userId);
  });

  it('fails only the rest of a user’s group when their registration fails', async () => {
    // Prepare: the bulk record and then the single INSTORE add of one user are refused
    await start({ bulkCountsAs: 'request', maxAttempts: 1 });
    const [failing, fine] = [lineUserId(), lineUserId()];
    harness.capillary.rejectInBulk({ userIds: [failing], code: 8013, times: 1 });
    harness.capillary.injectFault({ status: 500, times: 1, pathPrefix: '/v2/customers' });
    const events = [followEvent(failing, 1000), followEvent(fine, 1000), unfollowEvent(failing, 2000)];
    // Act
    const response = await harness.run(events);
    // Assess: the failing user's follow and its later unfollow go back to SQS; the other user is registered
    const failedEventIds = harness.settled.filter(({ error }) => error).map(({ webhookEventId }) => webhookEventId);
    expect(failedEventIds).toEqual([events[0]!.webhookEventId]);
    expect(response.batchItemFailures).toHaveLength(2);
    await expectRegistered(harness, fine);
  });

  it('with record counting, registers in bulk where a single registration takes two calls', async () => {
    // Prepare
    await start({ bulkCountsAs: 'record' });
    const users = [lineUserId(), lineUserId(), lineUserId()];
    // Act
    await harness.run(users.map((userId) => followEvent(userId, 1000)));
    // Assess
    expect(apiCalls(harness).map((call) => call.path.split('?')[0])).toEqual([BULK_PATH]);
    for (const userId of users) await expectRegistered(harness, userId);
  });

  it('registers nobody in on-link mode', async () => {
    await start({ bulkCountsAs: 'request', registrationMode: 'on-link' });
    const response = await harness.run([followEvent(lineUserId(), 1000), followEvent(lineUserId(), 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness)).toHaveLength(0);
  });
});
