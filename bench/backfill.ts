/**
 * Figure 7: the backfill. On the stand-ins and dynalite, with the job's real code (local/rigs/backfill-rig.ts):
 * - Capillary calls per follower with batch 10, and on a second run after completion (target 0);
 * - followers per hour at 100 and 1,000 calls/min, a bulk call counted as 1 request and as N records (the
 *   stand-in enforces the limit the same way), over a fixed window at the deployed share of the budget;
 * - a backfill of `liveFollowers` followers while live follow/unfollow events of other users arrive: the
 *   live events' delay (arrival → applied) and calls refused over the limit. The worker takes the budget the
 *   backfill leaves (100 % − share): the two together never exceed the limit.
 * Hours for 1,000,000 followers at 100 calls/min are computed from the measured rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { ById } from '../lib/config/channels';
import type { BulkCountsAs } from '../lib/domain/backfill-rules';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../lib/worker/worker-deps';
import { lambdaContext } from '../local/lambda-context';
import { toSqsEvent } from '../local/lambda-events';
import { followEvent, lineUserId, unfollowEvent } from '../local/line-event-factory';
import { startBackfillRig } from '../local/rigs/backfill-rig';
import { sqsRecordFor } from '../local/rigs/worker-rig';
import { seededUserIds } from '../local/standins/line-standin';
import { progressOf } from '../ops/backfill-control';
import type { BenchProfile } from './profiles';
import { round } from './stats';
import { renderTable } from './table';

type BackfillProfile = BenchProfile['backfill'];

export interface BackfillFigures {
  batchSize: number;
  ratePercentShare: number;
  capillaryCallsPerFollower: number;
  rerunCapillaryCalls: number;
  /** per limit, then per counting ('request' | 'record') */
  followersPerHour: Record<string, Record<BulkCountsAs, number>>;
  /** per counting, from the measured rate at 100 calls/min */
  hoursFor1MAt100Rpm: Record<BulkCountsAs, number>;
  live: {
    followers: number;
    rateLimitPerMinute: number;
    countsAs: BulkCountsAs;
    liveEvents: number;
    liveEventDelayP99Ms: number;
    liveEventDelayMaxMs: number;
    overLimit: number;
    backfillSeconds: number;
  };
  overLimit: number;
  liveEventDelayP99Ms: number;
}

const capillaryCalls = (calls: { path: string; status: number | null }[]) =>
  calls.filter((call) => call.path.startsWith('/v2/') && call.status !== 429).length;

async function callsPerFollower(profile: BackfillProfile): Promise<{ perFollower: number; rerun: number }> {
  const rig = await startBackfillRig({
    lineStandIn: { followerIds: seededUserIds(profile.economyFollowers, 'bench-economy') },
  });
  try {
    await rig.runToEnd(await rig.start());
    const first = capillaryCalls(rig.capillary.calls());
    await rig.runToEnd(await rig.start());
    return {
      perFollower: round(first / profile.economyFollowers, 3),
      rerun: capillaryCalls(rig.capillary.calls()) - first,
    };
  } finally {
    await rig.close();
  }
}

async function rateOver(profile: BackfillProfile, rateLimitPerMinute: number, countsAs: BulkCountsAs): Promise<number> {
  const rig = await startBackfillRig({
    lineStandIn: {
      followerIds: seededUserIds(profile.rateFollowers, `bench-rate-${rateLimitPerMinute}-${countsAs}`),
      latencyMs: profile.latencyMs,
    },
    capillaryStandIn: { rateLimitPerMinute, bulkCountsPerRecord: countsAs === 'record', latencyMs: profile.latencyMs },
    capillary: { rateLimitPerMinute },
    backfill: { bulkCountsAs: countsAs, rateSharePercent: profile.ratePercentShare },
  });
  try {
    const jobId = await rig.start();
    const started = Date.now();
    // The invocation stops taking batches 15 s (its reserve) before its deadline.
    await rig.tick(jobId, profile.windowSeconds * 1000 + 15_000);
    const job = await rig.job();
    const registered = job === undefined ? 0 : progressOf(job).registered;
    return Math.round(registered / ((Date.now() - started) / 3_600_000));
  } finally {
    await rig.close();
  }
}

async function backfillWithLiveEvents(profile: BackfillProfile): Promise<BackfillFigures['live']> {
  const { rateLimitPerMinute, countsAs, followers, liveEvents } = profile.live;
  const rig = await startBackfillRig({
    lineStandIn: { followerIds: seededUserIds(followers, 'bench-live') },
    capillaryStandIn: { rateLimitPerMinute, bulkCountsPerRecord: countsAs === 'record' },
    capillary: { rateLimitPerMinute },
    backfill: { bulkCountsAs: countsAs, rateSharePercent: profile.ratePercentShare },
  });
  // One live worker instance paced to what the backfill leaves of the budget.
  const liveShare = Math.floor((rateLimitPerMinute * (100 - profile.ratePercentShare)) / 100);
  const workerConfig = rig.config.worker;
  const orgs = new ById(workerConfig.capillaryOrgs.all.map((org) => ({ ...org, rateLimitPerMinute: liveShare })));
  const worker = buildSyncDeps({ ...workerConfig, capillaryOrgs: orgs }, rig.dynamo);
  const context = lambdaContext({ name: 'bench-live-worker', memoryMb: 256, timeoutSeconds: 60 });
  const delays: number[] = [];
  try {
    const jobId = await rig.start();
    const started = Date.now();
    let backfillDone = false;
    const backfill = rig.runToEnd(jobId, 200).then((job) => {
      backfillDone = true;
      return job;
    });
    // Live events of other users (a follow, later its unfollow), spread while the backfill runs.
    const live = (async () => {
      for (let index = 0; index < liveEvents && !backfillDone; index++) {
        const userId = lineUserId();
        for (const event of [followEvent(userId, Date.now()), unfollowEvent(userId, Date.now() + 1)]) {
          const arrived = Date.now();
          const { batchItemFailures } = await processSqsBatch(
            toSqsEvent([sqsRecordFor(event, 1, rig.line.botUserId)]),
            context,
            worker,
          );
          if (batchItemFailures.length === 0) delays.push(Date.now() - arrived);
        }
        await sleep(profile.live.gapMs);
      }
    })();
    await Promise.all([backfill, live]);
    const sorted = [...delays].sort((a, b) => a - b);
    return {
      followers,
      rateLimitPerMinute,
      countsAs,
      liveEvents: delays.length,
      liveEventDelayP99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? NaN,
      liveEventDelayMaxMs: sorted[sorted.length - 1] ?? NaN,
      overLimit: rig.capillary.overLimitCount(),
      backfillSeconds: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await rig.close();
  }
}

export async function measureBackfill(
  profile: BackfillProfile,
  progress: (line: string) => void,
): Promise<BackfillFigures> {
  const economy = await callsPerFollower(profile);
  progress(`backfill: ${economy.perFollower} Capillary calls per follower, ${economy.rerun} on the rerun`);
  const followersPerHour: BackfillFigures['followersPerHour'] = {};
  for (const limit of profile.rateLimitsPerMinute) {
    followersPerHour[limit] = { request: 0, record: 0 };
    for (const countsAs of ['request', 'record'] as const) {
      followersPerHour[limit][countsAs] = await rateOver(profile, limit, countsAs);
      progress(`backfill: ${limit}/min, counted per ${countsAs}: ${followersPerHour[limit][countsAs]} followers/h`);
    }
  }
  const live = await backfillWithLiveEvents(profile);
  progress(
    `backfill: ${live.followers} followers with ${live.liveEvents} live events: p99 delay ${live.liveEventDelayP99Ms} ms, over limit ${live.overLimit}`,
  );
  const at100 = followersPerHour['100'];
  const hours = (perHour: number | undefined) => (perHour ? round(1_000_000 / perHour, 1) : NaN);
  return {
    batchSize: 10,
    ratePercentShare: profile.ratePercentShare,
    capillaryCallsPerFollower: economy.perFollower,
    rerunCapillaryCalls: economy.rerun,
    followersPerHour,
    hoursFor1MAt100Rpm: { request: hours(at100?.request), record: hours(at100?.record) },
    live,
    overLimit: live.overLimit,
    liveEventDelayP99Ms: live.liveEventDelayP99Ms,
  };
}

export function backfillTable(figures: BackfillFigures, profile: BackfillProfile): string {
  const rows: (string | number)[][] = [
    ['Capillary calls per follower (batch 10, target ≤ 0.11)', figures.capillaryCallsPerFollower],
    ['Capillary calls on a rerun after completion (target 0)', figures.rerunCapillaryCalls],
    ...Object.entries(figures.followersPerHour).flatMap(([limit, byCounting]) =>
      (['request', 'record'] as const).map((countsAs) => [
        `followers/hour at ${limit}/min, a bulk call counted per ${countsAs}`,
        byCounting[countsAs],
      ]),
    ),
    ['hours for 1,000,000 followers at 100/min, counted per request', figures.hoursFor1MAt100Rpm.request],
    ['hours for 1,000,000 followers at 100/min, counted per record', figures.hoursFor1MAt100Rpm.record],
    [
      `live event delay p99 ms while ${figures.live.followers} followers are backfilled (${figures.live.rateLimitPerMinute}/min, per ${figures.live.countsAs})`,
      figures.live.liveEventDelayP99Ms,
    ],
    ['over-limit calls during that run (target 0)', figures.overLimit],
  ];
  return renderTable(
    `Figure 7 — backfill (share ${profile.ratePercentShare} % of the limit, ${profile.windowSeconds} s rate windows, stand-ins answer in ${profile.latencyMs} ms)`,
    ['figure', 'value'],
    rows,
  );
}
