import { maskUserId } from '../../../lib/observability/telemetry';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';
import { LINE_ACCOUNT_ID } from '../../../local/rigs/worker-rig';
import { subscriptionOf } from '../../../local/standins/capillary-standin';
import { seededUserIds } from '../../../local/standins/line-standin';
import { DriftCheckBudgetError } from '../../../ops/reconcile/errors';
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
    });
    expect(report).toMatchObject({ followers: 4, tableRecords: 4, capillaryChecked: 2, repaired: 0 });
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
    expect(after.counts).toEqual({
      'unknown-follower': 0,
      'missed-follow': 0,
      'missed-unfollow': 0,
      'capillary-differs': 0,
    });
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
    expect(rig.capillaryCalls() - before).toBe(1);
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
});
