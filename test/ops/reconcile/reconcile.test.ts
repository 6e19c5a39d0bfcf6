import { maskUserId } from '../../../lib/observability/telemetry';
import { buildSyncDeps } from '../../../lib/worker/worker-deps';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';
import { LINE_ACCOUNT_ID } from '../../../local/rigs/worker-rig';
import { subscriptionOf } from '../../../local/standins/capillary-standin';
import { seededUserIds } from '../../../local/standins/line-standin';
import { DriftCheckBudgetError } from '../../../ops/reconcile/errors';
import { RECONCILE_DRIFT_CLASSES } from '../../../ops/reconcile/identity-drift';
import { reconcile } from '../../../ops/reconcile/reconcile';
import { buildReconcileDeps } from '../../../ops/reconcile/reconcile-deps';

let rig: BackfillRig;
afterEach(() => rig.close());

const deps = () => buildReconcileDeps(rig.config.worker, rig, rig.queues.eventsQueueUrl, 'default');
const check = async (options: { repair?: boolean; sample?: number } = {}) =>
  reconcile(await deps(), { runId: `run-${Math.random()}`, repair: false, ...options });
const capillaryState = (userId: string) => {
  const [customer, ...others] = rig.capillary.customersWithIdentifier('line', userId);
  return {
    customers: others.length + (customer ? 1 : 0),
    subscription: customer && subscriptionOf(rig.capillary.state(), customer.id, 'LINE', LINE_ACCOUNT_ID),
  };
};
const key = (userId: string) => ({ destination: rig.line.botUserId, userId });
const NO_DRIFT = Object.fromEntries(RECONCILE_DRIFT_CLASSES.map((drift) => [drift, 0]));
const call = { deadlineAt: Number.POSITIVE_INFINITY };
const members = () => buildSyncDeps(rig.config.worker, rig.dynamo).channels.get('default')!.members;
const customerOf = async (userId: string) => (await rig.deps.users.read(key(userId)))!.customerId!;
/** Changes the user's record as an applied event of the sync lane would. */
async function recordChange(userId: string, change: Parameters<BackfillRig['deps']['users']['complete']>[2]) {
  const event = { type: 'follow', webhookEventId: `change-${Math.random()}`, timestamp: Date.now(), userId };
  await rig.deps.users.claim(key(userId), event);
  await rig.deps.users.complete(key(userId), event, change);
}
const holders = (userId: string) => rig.capillary.customersWithIdentifier('line', userId).map(({ id }) => id);

/** Seven followers backfilled, then one drift of each identity class, and a forgotten user. */
async function identityDrift() {
  const ids = seededUserIds(7, 'identity');
  const [stripped, movedAway, mergedAway, deleted, unregistered, forgotten, steady] = ids as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  rig = await startBackfillRig({ lineStandIn: { followerIds: ids } });
  await rig.runToEnd(await rig.start());
  // orphaned-follower: a failed link stripped the customer, and nobody carries the LINE profile
  await members().detach(await customerOf(stripped), stripped, call);
  // orphaned-follower: a friend whose record names no customer (an unlink that left none)
  await recordChange(unregistered, { customerId: null });
  // linked-elsewhere: the LINE profile sits on another customer (an old member) than the record's
  const oldMember = rig.capillary.addMember({ mobile: '66800000001' });
  await members().detach(await customerOf(movedAway), movedAway, call);
  await members().attach(oldMember, movedAway, { kind: 'mobile', value: '66800000001' }, call);
  // dead-customer: merged away in Member Care, and deleted, with no notification
  const survivor = rig.capillary.addMember({ mobile: '66800000002' });
  rig.capillary.mergeCustomers(survivor, await customerOf(mergedAway));
  rig.capillary.deleteCustomer(await customerOf(deleted));
  // forgotten: deleted on a PII request and applied; still a friend, which is no new consent
  const forgottenCustomer = await customerOf(forgotten);
  rig.capillary.deleteCustomer(forgottenCustomer);
  await recordChange(forgotten, { customerId: null, subscription: null, forgottenAt: Date.now() });
  return { stripped, unregistered, movedAway, oldMember, mergedAway, survivor, deleted, forgotten, steady };
}

/** Four followers backfilled, then one drift of each class. */
async function driftOfEachClass() {
  const [unfollowed, capillaryChanged, optedOutInTable, steady, newcomer] = seededUserIds(5, 'drift') as [
    string,
    string,
    string,
    string,
    string,
  ];
  rig = await startBackfillRig({
    lineStandIn: { followerIds: [unfollowed, capillaryChanged, optedOutInTable, steady] },
  });
  await rig.runToEnd(await rig.start());
  // missed-unfollow: LINE no longer lists them, the table still says OPTIN
  rig.line.setBlocked(unfollowed, true);
  // capillary-differs: someone opted them out in Capillary
  const changed = (await rig.deps.users.read(key(capillaryChanged)))!.customerId!;
  await rig.deps.customers.setSubscription(changed, 'OPTOUT', { deadlineAt: Number.POSITIVE_INFINITY });
  // missed-follow: the table recorded an unfollow, but LINE lists them
  const oldUnfollow = {
    type: 'unfollow',
    webhookEventId: 'recorded-unfollow',
    timestamp: Date.now(),
    userId: optedOutInTable,
  };
  await rig.deps.users.claim(key(optedOutInTable), oldUnfollow);
  await rig.deps.users.complete(key(optedOutInTable), oldUnfollow, { subscription: 'OPTOUT' });
  // unknown-follower: a follower the bridge never heard of
  rig.line.addFollowers([newcomer]);
  return { unfollowed, capillaryChanged, optedOutInTable, steady, newcomer };
}

describe('drift check', () => {
  it('finds one drift of each class, with the masked ids', async () => {
    const users = await driftOfEachClass();
    // Act
    const report = await check();
    // Assess
    expect(report.counts).toEqual({
      ...NO_DRIFT,
      'unknown-follower': 1,
      'missed-follow': 1,
      'missed-unfollow': 1,
      'capillary-differs': 1,
    });
    expect(report.users).toEqual({
      'unknown-follower': [maskUserId(users.newcomer)],
      'missed-follow': [maskUserId(users.optedOutInTable)],
      'missed-unfollow': [maskUserId(users.unfollowed)],
      'capillary-differs': [maskUserId(users.capillaryChanged)],
      'orphaned-follower': [],
      'linked-elsewhere': [],
      'dead-customer': [],
    });
    // Every record with a customer is checked for who holds the LINE profile (the subscription where that is right).
    expect(report).toMatchObject({ followers: 4, tableRecords: 4, capillaryChecked: 4, repaired: 0, forgotten: 0 });
  });

  it('repairs every class through the ordered pipeline, after which a second check finds none', async () => {
    const users = await driftOfEachClass();
    // Act
    const report = await check({ repair: true });
    const applied = await rig.drainPipeline();
    const after = await check();
    // Assess
    expect(report.repaired).toBe(4);
    expect(applied).toBe(4);
    expect(after.counts).toEqual(NO_DRIFT);
    expect(capillaryState(users.unfollowed)).toEqual({
      customers: 1,
      subscription: { BULK: 'OPTOUT', TRANS: 'OPTOUT' },
    });
    expect(capillaryState(users.capillaryChanged)).toEqual({
      customers: 1,
      subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' },
    });
    expect(capillaryState(users.optedOutInTable)).toEqual({
      customers: 1,
      subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' },
    });
    expect(capillaryState(users.newcomer)).toEqual({ customers: 1, subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' } });
  });

  it('lets a live event newer than the check win over its repair', async () => {
    const users = await driftOfEachClass();
    const report = await check({ repair: true });
    // The "unfollowed" user follows again after the list was read: the live follow is applied first.
    const liveFollow = {
      type: 'follow',
      webhookEventId: 'live-refollow',
      timestamp: report.observedAt + 1000,
      userId: users.unfollowed,
    };
    await rig.deps.users.claim(key(users.unfollowed), liveFollow);
    await rig.deps.users.complete(key(users.unfollowed), liveFollow, { subscription: 'OPTIN' });
    // Act
    await rig.drainPipeline();
    // Assess: the repair (an unfollow observed earlier) was skipped as stale
    expect(await rig.deps.users.read(key(users.unfollowed))).toMatchObject({
      subscription: 'OPTIN',
      lastEventId: 'live-refollow',
    });
    expect(capillaryState(users.unfollowed).subscription).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('reads Capillary for a random sample only when asked', async () => {
    await driftOfEachClass();
    const before = rig.capillaryCalls();
    // Act
    const report = await check({ sample: 1 });
    // Assess
    expect(report.capillaryChecked).toBe(1);
    // its customer (who holds the LINE profile), then its subscription unless the table already says what to repair
    expect(rig.capillaryCalls() - before).toBeGreaterThanOrEqual(1);
    expect(rig.capillaryCalls() - before).toBeLessThanOrEqual(2);
  });

  it('stops with DriftCheckBudgetError when the shared Capillary budget has no token for a read', async () => {
    await driftOfEachClass();
    const refused: number[] = [];
    const starved = {
      ...(await deps()),
      limiter: {
        take: async (_tokens: number, deadlineAt: number) => {
          refused.push(deadlineAt - Date.now());
          return false;
        },
      },
    };
    const before = rig.capillaryCalls();
    // Act
    const checking = reconcile(starved, { runId: 'starved', repair: true, readTimeoutMs: 5_000 });
    // Assess
    await expect(checking).rejects.toThrow(DriftCheckBudgetError);
    await expect(checking).rejects.toMatchObject({ waitedMs: 5_000, message: /try a smaller --sample/ });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeGreaterThan(4_000);
    expect(rig.capillaryCalls()).toBe(before);
  });

  it('finds each identity drift, and reports forgotten users apart, never as drift', async () => {
    const users = await identityDrift();
    // Act
    const report = await check();
    // Assess
    expect(report.counts).toEqual({ ...NO_DRIFT, 'orphaned-follower': 2, 'linked-elsewhere': 1, 'dead-customer': 2 });
    expect(report.users['orphaned-follower'].sort()).toEqual(
      [maskUserId(users.stripped), maskUserId(users.unregistered)].sort(),
    );
    expect(report.users['linked-elsewhere']).toEqual([maskUserId(users.movedAway)]);
    expect(report.users['dead-customer'].sort()).toEqual(
      [maskUserId(users.mergedAway), maskUserId(users.deleted)].sort(),
    );
    expect(report).toMatchObject({ forgotten: 1, forgottenUsers: [maskUserId(users.forgotten)], repaired: 0 });
  });

  it('repairs each identity drift through the ordered pipeline, after which a second check finds none', async () => {
    const users = await identityDrift();
    const strippedCustomer = await customerOf(users.stripped);
    const movedAwayCustomer = await customerOf(users.movedAway);
    // Act
    const report = await check({ repair: true });
    const applied = await rig.drainPipeline();
    const after = await check();
    // Assess
    expect(report.repaired).toBe(5);
    expect(applied).toBe(5);
    expect(after.counts).toEqual(NO_DRIFT);
    expect(after.forgotten).toBe(1);
    // the LINE profile back on the record's customer, opted in; the old member no longer carries it
    expect(holders(users.stripped)).toEqual([strippedCustomer]);
    expect(holders(users.movedAway)).toEqual([movedAwayCustomer]);
    expect(capillaryState(users.movedAway).subscription).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    // re-resolved by the worker: the merge survivor, and a customer of their own for the deleted one and the unregistered
    expect(await customerOf(users.mergedAway)).toBe(users.survivor);
    for (const userId of [users.deleted, users.unregistered]) {
      expect(holders(userId)).toEqual([await customerOf(userId)]);
      expect(capillaryState(userId).subscription).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    }
    // the forgotten user was not registered again
    expect(holders(users.forgotten)).toEqual([]);
    expect((await rig.deps.users.read(key(users.forgotten)))?.customerId).toBeUndefined();
  });

  it('detects every drift class it names: a scenario with one of each leaves no class at zero', async () => {
    const users = await identityDrift();
    // the four classes of LINE, the table and the subscription, on the same channel
    const [optedOutInTable, capillaryChanged, newcomer] = seededUserIds(3, 'identity-more') as [string, string, string];
    rig.line.addFollowers([optedOutInTable, capillaryChanged]);
    await rig.runToEnd(await rig.start());
    await recordChange(optedOutInTable, { subscription: 'OPTOUT' });
    await rig.deps.customers.setSubscription(await customerOf(capillaryChanged), 'OPTOUT', call);
    rig.line.setBlocked(users.steady, true);
    rig.line.addFollowers([newcomer]);
    // Act
    const report = await check();
    // Assess
    expect(RECONCILE_DRIFT_CLASSES.filter((drift) => report.counts[drift] === 0)).toEqual([]);
  });

  it('leaves a record alone that names another customer by the time its reattach repair is applied', async () => {
    const users = await identityDrift();
    const stripped = await customerOf(users.stripped);
    await check({ repair: true });
    // A link re-pointed the user before the worker got to the repair.
    const member = rig.capillary.addMember({ mobile: '66800000003' });
    await recordChange(users.stripped, { customerId: member });
    // Act
    await rig.drainPipeline();
    // Assess: nothing put back on the customer the check saw
    expect(holders(users.stripped)).toEqual([]);
    expect(await customerOf(users.stripped)).toBe(member);
    expect(rig.capillary.state().customers.find(({ id }) => id === stripped)).toBeDefined();
  });
});
