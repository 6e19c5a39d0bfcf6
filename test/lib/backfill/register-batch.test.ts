import { registerBatch } from '../../../lib/backfill/register-batch';
import { receiveAll } from '../../../local/rigs/aws-kit';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';
import { seededUserIds } from '../../../local/standins/line-standin';

let rig: BackfillRig;
afterEach(() => rig.close());

const keyOf = (userId: string) => ({ destination: rig.line.botUserId, userId });
const register = (userIds: string[], listing = 'job-1:0') =>
  registerBatch(userIds, listing, Date.now(), rig.deps, Date.now() + 60_000);

describe('registerBatch', () => {
  it('registers unknown followers opted in with one bulk call, and records each', async () => {
    const followers = seededUserIds(4, 'batch-new');
    rig = await startBackfillRig({ lineStandIn: { followerIds: followers } });
    // Act
    const counters = await register(followers);
    // Assess
    expect(counters).toMatchObject({ idsSeen: 4, registered: 4, optedIn: 4, alreadyKnown: 0, capillaryCalls: 1 });
    for (const userId of followers)
      expect(await rig.deps.users.read(keyOf(userId))).toMatchObject({ subscription: 'OPTIN' });
  });

  it('costs no Capillary call for followers already registered: as its own (a page redone) or as known', async () => {
    const followers = seededUserIds(3, 'batch-again');
    rig = await startBackfillRig({ lineStandIn: { followerIds: followers } });
    await register(followers, 'job-1:0');
    const calls = rig.capillaryCalls();
    // Act
    const redone = await register(followers, 'job-1:0');
    const nextListing = await register(followers, 'job-1:1');
    // Assess
    expect(redone).toMatchObject({ idsSeen: 3, registered: 3, alreadyKnown: 0, capillaryCalls: 0 });
    expect(nextListing).toMatchObject({ idsSeen: 3, registered: 0, alreadyKnown: 3, capillaryCalls: 0 });
    expect(rig.capillaryCalls()).toBe(calls);
  });

  it('hands a follower whose live event is in flight to the events queue, and registers the others', async () => {
    const [busy, free] = seededUserIds(2, 'batch-busy') as [string, string];
    rig = await startBackfillRig({ lineStandIn: { followerIds: [busy, free] } });
    await rig.deps.users.claim(keyOf(busy), {
      type: 'follow',
      webhookEventId: 'live-follow',
      timestamp: Date.now() - 1000,
      userId: busy,
    });
    // Act
    const counters = await register([busy, free]);
    // Assess
    expect(counters).toMatchObject({ deferred: 1, registered: 1 });
    const [handedOver, ...more] = await receiveAll(rig.sqs, rig.queues.eventsQueueUrl);
    expect(more).toHaveLength(0);
    expect(handedOver!.Attributes?.MessageGroupId).toBe(`${rig.line.botUserId}:${busy}`);
  });

  it('sends a record Capillary keeps rejecting to the DLQ after its attempts, and registers the others', async () => {
    const [rejected, accepted] = seededUserIds(2, 'batch-dlq') as [string, string];
    rig = await startBackfillRig({ lineStandIn: { followerIds: [rejected, accepted] } });
    rig.capillary.rejectInBulk({ userIds: [rejected], code: 8013, times: 10 });
    // Act
    const counters = await register([rejected, accepted]);
    // Assess: one bulk call for both, then the rejected one alone twice (3 attempts)
    expect(counters).toMatchObject({ registered: 1, failed: 1, capillaryCalls: 3 });
    const [dead, ...more] = await receiveAll(rig.sqs, rig.queues.deadLetterQueueUrl);
    expect(more).toHaveLength(0);
    expect(JSON.parse(dead!.Body!)).toMatchObject({ event: { type: 'follow', source: { userId: rejected } } });
    expect(await rig.deps.users.read(keyOf(accepted))).toMatchObject({ subscription: 'OPTIN' });
  });
});
