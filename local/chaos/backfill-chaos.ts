/**
 * The backfill under chaos: a job over thousands of followers, interleaved with live follow / unfollow /
 * redelivered events for the same users (and for newcomers), Capillary faults (429, 5xx, timeouts, lost
 * answers, bulk records rejected once or for good), job invocations cut short or killed, and live workers
 * dying after applying a batch but before deleting it. Then everything drains (records rejected for good
 * are redriven from the DLQ once the fault is gone) and every user is judged against the oracle: LINE's
 * truth at the end (who is a follower), one Capillary customer at most, nobody lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

import type { LineWebhookEvent } from '../../lib/line/callback';
import { enqueueBatches, toBatches, toEntries } from '../../lib/queue/event-queue';
import type { WorkerDeps } from '../../lib/worker/handle-queued-event';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../lib/worker/worker-deps';
import { lambdaContext } from '../lambda-context';
import { toSqsEvent, toSqsRecord } from '../lambda-events';
import { followEvent, lineUserId, redelivery, unfollowEvent } from '../line-event-factory';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import { queueDepth, totalOf } from '../queue-poller';
import { startBackfillRig, type BackfillRig } from '../rigs/backfill-rig';
import { RIG_CHANNEL } from '../rigs/worker-rig';
import { subscriptionOf } from '../standins/capillary-standin';
import { seededUserIds } from '../standins/line-standin';
import type { FaultRule } from '../standins/standin-kit';
import { scanLogsDuring, type LogScanReport } from './log-scan';
import { seededRandom } from './seeded-random';

export interface BackfillChaosOptions {
  seed: number;
  followers: number;
  /** users (followers and newcomers) that also send live events during the backfill */
  liveUsers: number;
  /** live events per live user */
  eventsPerLiveUser: number;
  /** followers whose bulk record Capillary rejects until the end (they go to the DLQ, then are redriven) */
  rejectedForGood: number;
}

export interface BackfillChaosReport {
  options: BackfillChaosOptions;
  figures: {
    followersAtStart: number;
    usersJudged: number;
    liveEventsSent: number;
    liveEventsDuringBackfill: number;
    redeliveries: number;
    faultsInjected: number;
    jobInterruptions: number;
    liveWorkerCrashes: number;
    deadLettered: number;
    jobRestarts: number;
    capillaryCalls: number;
    durationMs: number;
  };
  problems: { userId: string; kind: 'state' | 'duplicate' | 'lost'; detail: string }[];
  logScan: LogScanReport;
}

const BULK_PATH = '/v2/integrations/customer/upsert/bulk';

function randomFault(random: () => number): FaultRule {
  const roll = random();
  if (roll < 0.3) return { status: 429, times: 1 + Math.floor(random() * 2) };
  if (roll < 0.5) return { status: ([500, 502, 503, 504, 521] as const)[Math.floor(random() * 5)] as 503, times: 1 };
  if (roll < 0.65) return { kind: 'timeout', delayMs: 400, times: 1 };
  if (roll < 0.85) return { kind: 'lost-response', times: 1, pathPrefix: BULK_PATH };
  // Enough failures on a bulk call to exhaust the client's attempts: the invocation stops mid-page, its claims open.
  return { status: 503, times: 3, pathPrefix: BULK_PATH };
}

/** Receive → the real batch processor → delete what succeeded; sometimes "dies" before deleting (the messages come back). */
async function drainSome(
  sqs: SQSClient,
  queueUrl: string,
  deps: WorkerDeps,
  random: () => number,
  maxBatches: number,
  crashPercent: number,
): Promise<{ crashes: number }> {
  const context = lambdaContext({ name: 'chaos-live-worker', memoryMb: 256, timeoutSeconds: 30 });
  let crashes = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 2,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (messages.length === 0) return { crashes };
    const records = messages.map((message) =>
      toSqsRecord(message, 'arn:aws:sqs:ap-northeast-1:000000000000:chaos-events.fifo'),
    );
    const { batchItemFailures } = await processSqsBatch(toSqsEvent(records), context, deps);
    if (random() * 100 < crashPercent) {
      crashes += 1; // the invocation died after the work, before SQS heard back: everything is received again
      continue;
    }
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId as string));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
  }
  return { crashes };
}

async function drainAll(
  rig: BackfillRig,
  queueUrl: string,
  deps: WorkerDeps,
  random: () => number,
  deadlineAt: number,
): Promise<number> {
  let crashes = 0;
  while (Date.now() < deadlineAt) {
    crashes += (await drainSome(rig.sqs, queueUrl, deps, random, 50, 0)).crashes;
    if (totalOf(await queueDepth(rig.sqs, queueUrl)) === 0) return crashes;
    await sleep(500); // messages left for a retry become visible again
  }
  throw new Error(`queue ${queueUrl} did not drain in time`);
}

/** The run with every log line it writes captured and scanned for user ids, names and secrets (none may appear). */
export async function runBackfillChaos(
  options: BackfillChaosOptions,
  drainDeadlineMs = 10 * 60_000,
): Promise<BackfillChaosReport> {
  const secrets = {
    channels: [
      {
        id: RIG_CHANNEL.id,
        provider: 'rig',
        destination: '',
        capillaryLineAccountId: RIG_CHANNEL.capillaryLineAccountId,
        channelSecret: LOCAL_CREDENTIALS.lineChannelSecret,
        channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
      },
    ],
    capillaryClientKey: LOCAL_CREDENTIALS.capillaryClientKey,
    capillaryClientSecret: LOCAL_CREDENTIALS.capillaryClientSecret,
  };
  const { result, logScan } = await scanLogsDuring(secrets, () => playBackfillChaos(options, drainDeadlineMs));
  return { ...result, logScan };
}

async function playBackfillChaos(
  options: BackfillChaosOptions,
  drainDeadlineMs: number,
): Promise<Omit<BackfillChaosReport, 'logScan'>> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const followers = seededUserIds(options.followers, `chaos-${options.seed}`);
  const rig = await startBackfillRig({
    lineStandIn: { followerIds: followers },
    // Small pages: the job crosses many page boundaries (cursor checkpoints) even at this size.
    backfill: { pageSize: 50, recordMaxAttempts: 2 },
    capillary: { maxAttempts: 3, timeoutMs: 300 },
  });
  const worker = buildSyncDeps({ ...rig.config.worker, claimTtlSeconds: 5 }, rig.dynamo);
  const figures = {
    liveEventsSent: 0,
    liveEventsDuringBackfill: 0,
    redeliveries: 0,
    faultsInjected: 0,
    jobInterruptions: 0,
    liveWorkerCrashes: 0,
  };
  try {
    const rejected = followers
      .filter(
        (_, index) => index % Math.max(1, Math.floor(options.followers / Math.max(1, options.rejectedForGood))) === 1,
      )
      .slice(0, options.rejectedForGood);
    rig.capillary.rejectInBulk({ userIds: rejected, code: 8013, times: 1_000_000 });
    // A few others are rejected once or twice: the per-record retry gets them through.
    rig.capillary.rejectInBulk({ userIds: followers.filter((_, index) => index % 97 === 5), code: 1006, times: 1 });

    // Live users: three in four among the followers, the rest newcomers; each sends a few events over the run.
    // Followers from the later part of the list, so that many of their live events come before the job reaches them.
    const later = followers.slice(Math.floor(followers.length / 4));
    const liveUsers = Array.from({ length: options.liveUsers }, (_, index) =>
      index % 4 !== 0 ? (later[Math.floor(random() * later.length)] as string) : lineUserId(),
    );
    const plans = liveUsers.map((userId) => ({
      userId,
      left: options.eventsPerLiveUser,
      following: followers.includes(userId),
      sent: [] as LineWebhookEvent[],
    }));

    const jobId = await rig.start();
    let jobRunning = true;
    let lastTimestamp = Date.now();
    const nextTimestamp = () => (lastTimestamp = Math.max(Date.now(), lastTimestamp + 1));
    while (jobRunning || plans.some((plan) => plan.left > 0)) {
      // Live events: a burst for some users; LINE's truth changes as each is sent.
      const burst: LineWebhookEvent[] = [];
      for (const plan of plans.filter((candidate) => candidate.left > 0 && random() < 0.2)) {
        if (plan.sent.length > 0 && random() < 0.3) {
          burst.push(redelivery(plan.sent[Math.floor(random() * plan.sent.length)] as LineWebhookEvent));
          figures.redeliveries += 1;
          continue;
        }
        const event = plan.following
          ? unfollowEvent(plan.userId, nextTimestamp())
          : followEvent(plan.userId, nextTimestamp());
        plan.following = !plan.following;
        if (plan.following) rig.line.addFollowers([plan.userId]);
        rig.line.setBlocked(plan.userId, !plan.following);
        plan.sent.push(event);
        plan.left -= 1;
        burst.push(event);
      }
      if (burst.length > 0) {
        await enqueueBatches(
          rig.sqs,
          rig.queues.eventsQueueUrl,
          toBatches(toEntries(RIG_CHANNEL.id, rig.line.botUserId, burst)),
        );
        figures.liveEventsSent += burst.length;
        if (jobRunning) figures.liveEventsDuringBackfill += burst.length;
      }
      // Capillary faults for whatever calls come next.
      if (random() < 0.5) {
        rig.capillary.injectFault(randomFault(random));
        figures.faultsInjected += 1;
      }
      if (random() < 0.05) {
        rig.line.injectFault({ status: 503, times: 3, pathPrefix: '/v2/bot/followers/ids' });
        figures.faultsInjected += 1;
      }
      // One job invocation, often cut short (its deadline comes after a batch or two), sometimes killed by a LINE fault.
      if (jobRunning) {
        // Often less than a page (the reserve is 15 s): the job is interrupted mid-page and resumes many times.
        const budgetMs = 15_000 + Math.floor(random() * 700);
        const result = await rig
          .tick(jobId, budgetMs)
          .catch(() => ({ next: true as const, delaySeconds: 0, crashed: true }));
        if ('crashed' in result || result.next) figures.jobInterruptions += 1;
        jobRunning = result.next;
      }
      figures.liveWorkerCrashes += (await drainSome(rig.sqs, rig.queues.eventsQueueUrl, worker, random, 3, 10)).crashes;
    }

    const deadlineAt = Date.now() + drainDeadlineMs;
    await drainAll(rig, rig.queues.eventsQueueUrl, worker, random, deadlineAt);
    // The operator fixes the cause, then redrives the DLQ: the worker applies what the backfill could not.
    rig.capillary.rejectInBulk({ userIds: rejected, code: 8013, times: 0 });
    const deadLettered = totalOf(await queueDepth(rig.sqs, rig.queues.deadLetterQueueUrl));
    await drainAll(rig, rig.queues.deadLetterQueueUrl, worker, random, deadlineAt);
    await drainAll(rig, rig.queues.eventsQueueUrl, worker, random, deadlineAt);

    const users = [...new Set([...followers, ...liveUsers])];
    return {
      options,
      figures: {
        followersAtStart: followers.length,
        usersJudged: users.length,
        ...figures,
        deadLettered,
        jobRestarts: (await rig.job())?.restarts ?? 0,
        capillaryCalls: rig.capillaryCalls(),
        durationMs: Date.now() - started,
      },
      problems: await judge(rig, users),
    };
  } finally {
    await rig.close();
  }
}

/** LINE's truth at the end for every user: a follower is one customer, opted in, and so recorded; anyone else is not opted in. */
async function judge(rig: BackfillRig, users: string[]): Promise<BackfillChaosReport['problems']> {
  const truth = new Set(rig.line.state().followerIds);
  const capillary = rig.capillary.state();
  const problems: BackfillChaosReport['problems'] = [];
  for (const userId of users) {
    const customers = capillary.customers.filter((customer) =>
      customer.profiles.some((profile) =>
        profile.identifiers.some(
          (identifier) =>
            (identifier.type === 'line' && identifier.value === userId) ||
            (identifier.type === 'externalId' && identifier.value === `line_${userId}`),
        ),
      ),
    );
    const record = await rig.deps.users.read({ destination: rig.line.botUserId, userId });
    if (customers.length > 1) problems.push({ userId, kind: 'duplicate', detail: `${customers.length} customers` });
    const expected = truth.has(userId) ? 'OPTIN' : 'OPTOUT';
    const subscription =
      customers[0] && subscriptionOf(capillary, customers[0].id, 'LINE', RIG_CHANNEL.capillaryLineAccountId);
    if (expected === 'OPTIN' && customers.length === 0) {
      problems.push({ userId, kind: 'lost', detail: 'a follower with no Capillary customer' });
      continue;
    }
    if (customers[0] && (subscription?.BULK !== expected || subscription?.TRANS !== expected)) {
      problems.push({
        userId,
        kind: 'state',
        detail: `Capillary ${JSON.stringify(subscription)}, LINE says ${expected}`,
      });
    }
    if (record?.subscription !== expected && !(expected === 'OPTOUT' && record === undefined)) {
      problems.push({
        userId,
        kind: 'state',
        detail: `table ${record?.subscription ?? 'no record'}, LINE says ${expected}`,
      });
    }
  }
  return problems;
}
