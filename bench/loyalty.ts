/**
 * Figure 8: loyalty in LINE against the stand-ins (docs/performance.md). Per tier change: LINE and Capillary calls
 * per LINE user of the member (the notification through the real notifications function, its tier events through
 * the real worker); the bulk menu sync's LINE calls per 500 members; and the "my points" answer's time to LINE
 * answering the reply call, from the signed webhook request (the real webhook handler, a FIFO queue on the local SQS
 * server, a long-poll receive, the real worker) and, within the same answers, from the worker taking the record.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { parseRichMenusByTier } from '../lib/domain/loyalty-rules';
import { eventOfKind } from '../lib/entry/event-shape';
import { handleNotificationRequest } from '../lib/notifications/handle-notification-request';
import { parseQueuedEvent } from '../lib/queue/queued-event';
import { createSqsClient } from '../lib/queue/sqs-client';
import { LinkNonceStore } from '../lib/store/link-nonce-store';
import { handleWebhookRequest } from '../lib/webhook/handle-webhook-request';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { accountLinkEvent, callbackBody, DESTINATION, lineUserId, postbackEvent } from '../local/line-event-factory';
import { startQueuePoller, type SettledBatch } from '../local/queue-poller';
import { createFifoQueue } from '../local/rigs/aws-kit';
import { notificationRequest, notificationsKeepingQueued } from '../local/rigs/notifications-rig';
import { signedWebhookRequest, webhookConfigFor } from '../local/rigs/webhook-rig';
import { RIG_CHANNEL, startWorkerHarness, type WorkerHarness } from '../local/rigs/worker-rig';
import { DEFAULT_LOYALTY_PROGRAM } from '../local/standins/capillary-loyalty';
import { tierNotificationFields } from '../local/standins/capillary-notifier';
import { syncMemberMenus } from '../ops/loyalty/menu-sync';
import { buildMenuSyncDeps } from '../ops/loyalty/menu-sync-deps';
import { percentile, round } from './stats';
import { renderTable } from './table';
import { atMost, type TargetCheck } from './targets';

export interface LoyaltyProfile {
  /** members with a linked LINE user whose tier changes once each */
  tierChanges: number;
  /** linked members the bulk sync links */
  bulkMembers: number;
  /** "my points" answers timed */
  pointsAnswers: number;
}

export interface LoyaltyFigures {
  lineCallsPerUserPerTierChange: number;
  capillaryCallsPerTierChange: number;
  bulkMembers: number;
  bulkLineCalls: number;
  /** the fewest calls LINE's 500-user limit allows: per menu, its users / 500 rounded up */
  bulkLineCallsFloor: number;
  /** "my points" answers, each timed twice; `memberCards`: those that were the member card (not "try again") */
  pointsAnswerMs: {
    /** from the signed webhook request entering the webhook handler to LINE answering the reply call */
    webhookToReply: Percentiles;
    /** from the worker taking the SQS record to LINE answering the reply call (part of the above) */
    workerToReply: Percentiles;
    samples: number;
    memberCards: number;
  };
}

interface Percentiles {
  p50: number;
  p99: number;
}

const percentilesOf = (times: number[]): Percentiles => ({
  p50: round(percentile(times, 0.5), 1),
  p99: round(percentile(times, 0.99), 1),
});

const MENUS = {
  Silver: `richmenu-${'a'.repeat(32)}`,
  Gold: `richmenu-${'b'.repeat(32)}`,
  '*': `richmenu-${'c'.repeat(32)}`,
};

export async function measureLoyalty(
  profile: LoyaltyProfile,
  progress: (line: string) => void,
): Promise<LoyaltyFigures> {
  const channel = {
    ...RIG_CHANNEL,
    destination: DESTINATION,
    loyalty: { richMenusByTier: parseRichMenusByTier(MENUS, 'bench').map! },
  };
  const harness = await startWorkerHarness({ channels: [channel] });
  try {
    for (const richMenuId of Object.values(MENUS)) harness.line.richMenus.create({ richMenuId });
    const members = Math.max(profile.tierChanges, profile.bulkMembers, profile.pointsAnswers);
    progress(`loyalty: linking ${members} members…`);
    const linked = await linkMembers(harness, members);
    progress(`loyalty: ${profile.tierChanges} tier changes…`);
    const tier = await tierChanges(harness, linked.slice(0, profile.tierChanges));
    progress(`loyalty: bulk menu sync of ${linked.length} members…`);
    const deps = await buildMenuSyncDeps(harness.config, harness.dynamo, channel.id);
    const bulk = await syncMemberMenus(deps!, { dryRun: false });
    progress(`loyalty: ${profile.pointsAnswers} "my points" answers…`);
    const answers = await timePointsAnswers(
      harness,
      linked.slice(0, profile.pointsAnswers).map(({ userId }) => userId),
    );
    return {
      ...tier,
      bulkMembers: bulk.members,
      bulkLineCalls: bulk.lineCalls,
      bulkLineCallsFloor: Object.values(bulk.byMenu).reduce((sum, users) => sum + Math.ceil(users / 500), 0),
      pointsAnswerMs: {
        webhookToReply: percentilesOf(answers.webhookToReply),
        workerToReply: percentilesOf(answers.workerToReply),
        samples: answers.webhookToReply.length,
        memberCards: answers.memberCards,
      },
    };
  } finally {
    await harness.close();
  }
}

async function linkMembers(harness: WorkerHarness, count: number) {
  const nonces = new LinkNonceStore(harness.dynamo, harness.config.tableName);
  const linked: { userId: string; memberId: number }[] = [];
  for (let index = 0; index < count; index++) {
    const mobile = `6683${String(index).padStart(7, '0')}`;
    const memberId = harness.capillary.addMember({ mobile });
    const userId = lineUserId();
    const nonce = LinkNonceStore.newNonce();
    const customer = { kind: 'mobile' as const, value: mobile };
    await nonces.issueNonce(nonce, { userId, destination: DESTINATION, customer, expiresAt: Date.now() + 600_000 });
    await harness.run([accountLinkEvent(userId, Date.now(), nonce)]);
    linked.push({ userId, memberId });
  }
  return linked;
}

/** Each member's tier changes once; Capillary's notification goes through the notifications function and the worker. */
async function tierChanges(harness: WorkerHarness, members: { memberId: number }[]) {
  const { notifications, queued } = notificationsKeepingQueued('bench', harness.dynamo, harness.config.tableName);
  const [lineBefore, capillaryBefore] = [harness.line.calls().length, harness.capillary.calls().length];
  let users = 0;
  for (const { memberId } of members) {
    const change = harness.capillary.loyalty.setTier(memberId, 'Gold');
    const body = {
      ...tierNotificationFields(change, DEFAULT_LOYALTY_PROGRAM),
      eventId: randomUUID(),
      createdAt: Date.now(),
    };
    await handleNotificationRequest(notificationRequest(body), notifications);
    for (const message of queued.splice(0)) {
      const { event } = parseQueuedEvent(message);
      users += 1;
      await harness.run([event]);
    }
  }
  return {
    lineCallsPerUserPerTierChange: round((harness.line.calls().length - lineBefore) / users, 3),
    capillaryCallsPerTierChange: round((harness.capillary.calls().length - capillaryBefore) / members.length, 3),
  };
}

/** Lambda's event source long-polls for up to 20 s; a message arriving meanwhile is returned at once. */
const LONG_POLL_SECONDS = 20;

/**
 * Each user taps "my points" once, one tap at a time, as LINE delivers it: the signed request through the real webhook
 * handler (as functions/webhook.ts calls it) onto a FIFO queue of the local SQS server, received by a long poll of
 * the local event source (local/queue-poller) and handed to the real batch processor as that SQS record. Both times
 * end when the batch returns, which for "my points" is right after LINE answered the reply call (nothing follows it).
 * Lambda's own poller, between the queue and the invocation, has no local equivalent whose latency means anything.
 */
async function timePointsAnswers(harness: WorkerHarness, userIds: string[]) {
  // Two clients, as the webhook function and the event source are two different callers of SQS.
  const [webhookSqs, pollerSqs] = [createSqsClient(), createSqsClient()];
  const queue = await createFifoQueue(webhookSqs);
  const webhook = { config: webhookConfigFor(queue.queueUrl), sqs: webhookSqs };
  let pending: { resolve: (times: { workerTook: number; answered: number }) => void; reject: (e: Error) => void };
  let times = { workerTook: 0, answered: 0 };
  let stopping = false;
  const poller = startQueuePoller({
    sqs: pollerSqs,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    handler: async (event, context) => {
      const workerTook = performance.now();
      const response = await processSqsBatch(event, context, harness.deps);
      times = { workerTook, answered: performance.now() };
      return response;
    },
    context: harness.context,
    concurrency: 1,
    waitTimeSeconds: LONG_POLL_SECONDS,
    // Settled once its message is deleted, so the next tap meets an idle queue and poller.
    onBatchSettled: (batch: SettledBatch) =>
      batch.failedMessageIds.size === 0
        ? pending.resolve(times)
        : pending.reject(batch.handlerError ?? new Error('the worker failed a "my points" record')),
    onPollError: (error) => {
      if (!stopping) pending.reject(error);
    },
  });
  const webhookToReply: number[] = [];
  const workerToReply: number[] = [];
  let memberCards = 0;
  try {
    for (const userId of userIds) {
      const request = signedWebhookRequest(callbackBody([postbackEvent(userId, Date.now(), 'action=points')]));
      const answered = new Promise<typeof times>((resolve, reject) => (pending = { resolve, reject }));
      const started = performance.now();
      const response = await handleWebhookRequest(eventOfKind('webhook', 'http', request), webhook);
      if (response.statusCode !== 200) throw new Error(`the webhook answered ${response.statusCode}: ${response.body}`);
      const { workerTook, answered: at } = await answered;
      webhookToReply.push(at - started);
      workerToReply.push(at - workerTook);
      const outcome = harness.settled.at(-1)?.outcome;
      if (outcome?.result === 'points' && outcome.action === 'member-card') memberCards += 1;
    }
  } finally {
    stopping = true;
    const stopped = poller.stop();
    // Ends the poller's idle long poll now rather than after up to 20 s.
    pollerSqs.destroy();
    await stopped;
    webhookSqs.destroy();
  }
  return { webhookToReply, workerToReply, memberCards };
}

export function loyaltyTable(figures: LoyaltyFigures): string {
  return renderTable(
    'Figure 8 — loyalty in LINE (stand-ins): calls per tier change, bulk menu sync, "my points" answer time',
    ['measure', 'value'],
    [
      ['LINE calls per LINE user per tier change', figures.lineCallsPerUserPerTierChange],
      ['Capillary calls per tier change', figures.capillaryCallsPerTierChange],
      [`bulk sync: LINE calls for ${figures.bulkMembers} members`, figures.bulkLineCalls],
      ['bulk sync: fewest calls possible (per menu, users / 500 rounded up)', figures.bulkLineCallsFloor],
      [
        `"my points" p50 ms, webhook → reply call (signed request → SQS FIFO, long poll → worker; ${figures.pointsAnswerMs.samples} answers)`,
        figures.pointsAnswerMs.webhookToReply.p50,
      ],
      ['"my points" p99 ms, webhook → reply call', figures.pointsAnswerMs.webhookToReply.p99],
      [
        '"my points" p50 ms, worker → reply call (the same answers from the worker taking the record)',
        figures.pointsAnswerMs.workerToReply.p50,
      ],
      ['"my points" p99 ms, worker → reply call', figures.pointsAnswerMs.workerToReply.p99],
      ["Lambda's own SQS poller (queue → invocation)", 'not measurable locally, not included'],
      ['"my points" answered with the member card', figures.pointsAnswerMs.memberCards],
    ],
  );
}

/** Issue 20's targets; LINE's reply token lasts about a minute, so the answer's p99 must be far below 60 s. */
export function loyaltyTargets(figures: LoyaltyFigures): TargetCheck[] {
  return [
    atMost('loyalty: LINE calls per LINE user per tier change', figures.lineCallsPerUserPerTierChange, 1),
    atMost('loyalty: Capillary calls per tier change', figures.capillaryCallsPerTierChange, 0),
    atMost(
      'loyalty: bulk sync LINE calls (≤ 1 per 500 members of a menu)',
      figures.bulkLineCalls,
      figures.bulkLineCallsFloor,
    ),
    atMost('loyalty: "my points" p99 ms (webhook → reply call)', figures.pointsAnswerMs.webhookToReply.p99, 5000),
    atMost('loyalty: "my points" p99 ms (worker → reply call)', figures.pointsAnswerMs.workerToReply.p99, 5000),
  ];
}
