import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';

import { syntheticFollow } from '../../../lib/domain/backfill-rules';
import { processSqsBatch } from '../../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../../lib/worker/worker-deps';
import { lambdaContext } from '../../../local/lambda-context';
import { toSqsEvent } from '../../../local/lambda-events';
import { unfollowEvent } from '../../../local/line-event-factory';
import { receiveAll } from '../../../local/rigs/aws-kit';
import { startBackfillRig, type BackfillRig, type BackfillRigOptions } from '../../../local/rigs/backfill-rig';
import { LINE_ACCOUNT_ID, sqsRecordFor } from '../../../local/rigs/worker-rig';
import { subscriptionOf } from '../../../local/standins/capillary-standin';
import { seededUserIds } from '../../../local/standins/line-standin';

const started: BackfillRig[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((rig) => rig.close()));
});
async function rigWith(followers: string[], options: BackfillRigOptions = {}): Promise<BackfillRig> {
  const rig = await startBackfillRig({ ...options, lineStandIn: { followerIds: followers, ...options.lineStandIn } });
  started.push(rig);
  return rig;
}

const keyOf = (rig: BackfillRig, userId: string) => ({ destination: rig.line.botUserId, userId });
const lineState = (rig: BackfillRig, userId: string) => {
  const customers = rig.capillary.customersWithIdentifier('line', userId);
  return {
    customers: customers.length,
    subscription: customers[0] && subscriptionOf(rig.capillary.state(), customers[0].id, 'LINE', LINE_ACCOUNT_ID),
  };
};
const bulkCalls = (rig: BackfillRig) =>
  rig.capillary.calls().filter((call) => call.path.startsWith('/v2/integrations/customer/upsert/bulk')).length;

describe('backfill job', () => {
  it('registers every follower once, opted in, 10 per bulk call, and records each in the table', async () => {
    // Prepare
    const followers = seededUserIds(25, 'register');
    const rig = await rigWith(followers);
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job).toMatchObject({
      status: 'completed',
      counters: {
        pages: 1,
        idsSeen: 25,
        alreadyKnown: 0,
        registered: 25,
        optedIn: 25,
        failed: 0,
        deferred: 0,
        capillaryCalls: 3,
      },
    });
    expect(bulkCalls(rig)).toBe(3);
    expect(rig.capillaryCalls()).toBe(3);
    for (const userId of followers)
      expect(lineState(rig, userId)).toEqual({ customers: 1, subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' } });
    const record = await rig.deps.users.read(keyOf(rig, followers[0]!));
    expect(record).toMatchObject({
      subscription: 'OPTIN',
      customerId: rig.capillary.customersWithIdentifier('line', followers[0]!)[0]!.id,
    });
    expect(record?.pendingEventId).toBeUndefined();
  });

  it('does nothing new when run again after completion: 0 Capillary calls', async () => {
    const rig = await rigWith(seededUserIds(12, 'rerun'));
    await rig.runToEnd(await rig.start());
    const callsAfterFirst = rig.capillaryCalls();
    // Act
    const again = await rig.runToEnd(await rig.start());
    // Assess
    expect(rig.capillaryCalls()).toBe(callsAfterFirst);
    expect(again).toMatchObject({
      status: 'completed',
      counters: { idsSeen: 12, alreadyKnown: 12, registered: 0, capillaryCalls: 0 },
    });
  });

  it('leaves a follower alone when a live event newer than the snapshot was applied (an unfollow wins)', async () => {
    // Prepare: the user unfollowed "in the future" relative to the backfill's snapshot
    const [unfollower, other] = seededUserIds(2, 'newer');
    const rig = await rigWith([unfollower!, other!]);
    const unfollow = {
      type: 'unfollow',
      webhookEventId: 'live-unfollow',
      timestamp: Date.now() + 3_600_000,
      userId: unfollower,
    };
    await rig.deps.users.claim(keyOf(rig, unfollower!), unfollow);
    await rig.deps.users.complete(keyOf(rig, unfollower!), unfollow, { subscription: 'OPTOUT' });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job.counters).toMatchObject({ alreadyKnown: 1, registered: 1 });
    expect(lineState(rig, unfollower!).customers).toBe(0);
    expect(await rig.deps.users.read(keyOf(rig, unfollower!))).toMatchObject({
      subscription: 'OPTOUT',
      lastEventId: 'live-unfollow',
    });
  });

  it('resumes from its cursor after an invocation dies between pages, without calling Capillary again for done pages', async () => {
    // Prepare: pages of 10; the second page's LINE request fails three times (the client's attempts), killing the invocation
    const followers = seededUserIds(30, 'resume');
    const rig = await rigWith(followers, { backfill: { pageSize: 10 } });
    const jobId = await rig.start();
    rig.line.injectFault({ status: 503, times: 3, skip: 1, pathPrefix: '/v2/bot/followers/ids' });
    // Act
    await expect(rig.tick(jobId)).rejects.toThrow(/followers\/ids failed: HTTP 503/);
    const afterCrash = await rig.job();
    const job = await rig.runToEnd(jobId);
    // Assess
    expect(afterCrash).toMatchObject({ status: 'running', counters: { pages: 1, registered: 10 } });
    expect(afterCrash?.cursor).toEqual(expect.any(String));
    expect(job).toMatchObject({
      status: 'completed',
      counters: { pages: 3, idsSeen: 30, registered: 30, capillaryCalls: 3 },
    });
    expect(bulkCalls(rig)).toBe(3);
    for (const userId of followers) expect(lineState(rig, userId).customers).toBe(1);
  });

  it('redoes a page interrupted by Capillary being unavailable: claimed followers are re-claimed, none registered twice', async () => {
    // Prepare: the first bulk call fails on both of the client's attempts, after its 10 followers were claimed
    const followers = seededUserIds(20, 'midpage');
    const rig = await rigWith(followers, { capillary: { maxAttempts: 2 } });
    const jobId = await rig.start();
    rig.capillary.injectFault({ status: 503, times: 2, pathPrefix: '/v2/integrations/customer/upsert/bulk' });
    // Act
    const interrupted = await rig.tick(jobId);
    const job = await rig.runToEnd(jobId);
    // Assess
    expect(interrupted).toEqual({ next: true, delaySeconds: 60 });
    expect(job).toMatchObject({ status: 'completed', counters: { idsSeen: 20, registered: 20, alreadyKnown: 0 } });
    for (const userId of followers)
      expect(lineState(rig, userId)).toEqual({ customers: 1, subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' } });
  });

  it('repeats a bulk call whose answer was lost without creating a second customer', async () => {
    const followers = seededUserIds(10, 'lost');
    const rig = await rigWith(followers);
    rig.capillary.injectFault({ kind: 'lost-response', times: 1, pathPrefix: '/v2/integrations/customer/upsert/bulk' });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job.counters).toMatchObject({ registered: 10, failed: 0 });
    expect(bulkCalls(rig)).toBe(2);
    for (const userId of followers) expect(lineState(rig, userId).customers).toBe(1);
  });

  it('starts again from the first page when LINE rejects an expired cursor, and known followers cost nothing', async () => {
    // Prepare: the stand-in's clock moves 25 h between two invocations
    let now = Date.now();
    const followers = seededUserIds(20, 'expired');
    const rig = await rigWith(followers, { backfill: { pageSize: 10 }, lineStandIn: { clock: () => now } });
    const jobId = await rig.start();
    rig.line.injectFault({ status: 503, times: 3, skip: 1, pathPrefix: '/v2/bot/followers/ids' });
    await rig.tick(jobId).catch(() => undefined); // first page done, then the invocation dies
    now += 25 * 3600 * 1000;
    // Act
    const job = await rig.runToEnd(jobId);
    // Assess
    expect(job).toMatchObject({ status: 'completed', restarts: 1, counters: { registered: 20, capillaryCalls: 2 } });
    expect(job.counters.alreadyKnown).toBe(10);
    expect(bulkCalls(rig)).toBe(2);
  });

  it('fails with the cause and the alternative for an account that is not Verified/Premium, having changed nothing', async () => {
    const rig = await rigWith(seededUserIds(5, 'unverified'), { lineStandIn: { verified: false } });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job.status).toBe('failed');
    expect(job.message).toMatch(/neither Verified nor Premium/);
    expect(job.message).toMatch(/insight check/);
    expect(rig.capillaryCalls()).toBe(0);
    expect(job.counters).toMatchObject({ pages: 0, idsSeen: 0 });
  });

  it('retries a rejected record on its own, then sends it to the DLQ with its reason while the others are registered', async () => {
    // Prepare
    const [rejectedOnce, alwaysRejected, ...others] = seededUserIds(6, 'rejects');
    const rig = await rigWith([rejectedOnce!, alwaysRejected!, ...others]);
    rig.capillary.rejectInBulk({ userIds: [rejectedOnce!], code: 8013, times: 1 });
    rig.capillary.rejectInBulk({ userIds: [alwaysRejected!], code: 8013, times: 10 });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess: 1 bulk call for 6, then 2 single retries, then 1 more for the one still rejected
    expect(job.counters).toMatchObject({ registered: 5, failed: 1, capillaryCalls: 4 });
    expect(lineState(rig, rejectedOnce!)).toEqual({ customers: 1, subscription: { BULK: 'OPTIN', TRANS: 'OPTIN' } });
    expect(lineState(rig, alwaysRejected!).customers).toBe(0);
    const [dead, ...more] = await receiveAll(rig.sqs, rig.queues.deadLetterQueueUrl);
    expect(more).toHaveLength(0);
    expect(JSON.parse(dead!.Body!)).toMatchObject({
      destination: rig.line.botUserId,
      event: { type: 'follow', source: { userId: alwaysRejected } },
    });
    expect(dead!.Attributes?.MessageGroupId).toBe(`${rig.line.botUserId}:${alwaysRejected}`);
  });

  it('hands a follower whose live event is in flight to the ordered pipeline instead of registering them', async () => {
    // Prepare: a live follow claimed the user's record and has not completed
    const [busy, free] = seededUserIds(2, 'deferred');
    const rig = await rigWith([busy!, free!]);
    await rig.deps.users.claim(keyOf(rig, busy!), {
      type: 'follow',
      webhookEventId: 'live-follow',
      timestamp: Date.now() - 1000,
      userId: busy,
    });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job.counters).toMatchObject({ deferred: 1, registered: 1 });
    const queued = await rig.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: rig.queues.eventsQueueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(queued.Messages).toHaveLength(1);
    expect(queued.Messages![0]!.Attributes?.MessageGroupId).toBe(`${rig.line.botUserId}:${busy}`);
    expect(lineState(rig, busy!).customers).toBe(0);
  });

  it("lets a newer live unfollow that took over a dead invocation's claim find the customer the upsert created", async () => {
    // Prepare: an invocation claimed the follower and upserted them, then died before recording it; its claim expired
    const [userId] = seededUserIds(1, 'takeover');
    const rig = await rigWith([userId!]);
    const facts = syntheticFollow('dead-job:0', userId!, Date.now() - 120_000);
    await rig.deps.users.claim(keyOf(rig, userId!), facts, Date.now() - 120_000);
    await rig.deps.registrar.upsert([userId!], { deadlineAt: Number.POSITIVE_INFINITY });
    const worker = buildSyncDeps(rig.config.worker, rig.dynamo);
    // Act
    const response = await processSqsBatch(
      toSqsEvent([sqsRecordFor(unfollowEvent(userId!, Date.now()), 1, rig.line.botUserId)]),
      lambdaContext({ name: 'test-worker', memoryMb: 256, timeoutSeconds: 30 }),
      worker,
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(lineState(rig, userId!)).toEqual({ customers: 1, subscription: { BULK: 'OPTOUT', TRANS: 'OPTOUT' } });
    expect(await rig.deps.users.read(keyOf(rig, userId!))).toMatchObject({
      subscription: 'OPTOUT',
      customerId: rig.capillary.customersWithIdentifier('line', userId!)[0]!.id,
    });
  });

  it('fails at once, naming the setting, when LINE refuses the channel access token', async () => {
    // The bot's user id is configured (LINE_BOT_USER_ID), so the first LINE call is the listing itself.
    const rig = await rigWith(seededUserIds(3, 'token'), {
      lineStandIn: { channelAccessToken: 'another-token' },
      channel: { destination: 'U1f2e3d4c5b6a79880011223344556677' },
    });
    // Act
    const job = await rig.runToEnd(await rig.start());
    // Assess
    expect(job.status).toBe('failed');
    expect(job.message).toMatch(/HTTP 401.*LINE_CHANNEL_ACCESS_TOKEN/);
    expect(rig.capillaryCalls()).toBe(0);
  });

  it('stops at once when cancelled', async () => {
    const rig = await rigWith(seededUserIds(5, 'cancel'));
    const jobId = await rig.start();
    await rig.deps.jobs.cancel('default', Date.now());
    // Act
    const result = await rig.tick(jobId);
    // Assess
    expect(result).toEqual({ next: false, status: 'not-acquired' });
    expect(await rig.job()).toMatchObject({ status: 'cancelled' });
    expect(rig.capillaryCalls()).toBe(0);
  });
});
