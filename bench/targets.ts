/** The targets, checked against one run's figures (the bench reports; it never fails on a miss). */
import type { BackfillFigures } from './backfill';
import type { ColdStartFigures } from './cold-start';
import type { BulkCost, CostPer1M } from './cost';
import type { EngagementFigures } from './engagement-burst';
import { round } from './stats';
import { renderTable } from './table';
import type { WebhookFigures } from './webhook-cpu';
import type { BurstFigures } from './worker-burst';
import { SEPARATE_CALLS_VARIANT, type CallEconomy } from './worker-economy';
import type { BelowLimitRun, ThroughputRun } from './worker-throughput';

export interface TargetCheck {
  what: string;
  value: number;
  target: string;
  met: boolean;
}

export const atMost = (what: string, value: number, limit: number): TargetCheck => ({
  what,
  value,
  target: `≤ ${limit}`,
  met: value <= limit,
});
const atLeast = (what: string, value: number, limit: number): TargetCheck => ({
  what,
  value,
  target: `≥ ${limit}`,
  met: value >= limit,
});
const exactly = (what: string, value: number, expected: number): TargetCheck => ({
  what,
  value,
  target: `= ${expected}`,
  met: value === expected,
});

/** Figures 1, 1b and 2's targets (the webhook's CPU and SQS calls). */
export function webhookTargets(webhook: WebhookFigures): TargetCheck[] {
  return [
    // The handler's own work besides the SDK's send(), for a 1-event body: measured with a send() that answers at
    // once, so neither it nor the floor runs the SDK (figure 1 also gives handler − send() and the whole handler).
    ...Object.entries(webhook.cpu)
      .slice(0, 1)
      .map(([events, cpu]) =>
        atMost(`webhook CPU, own work besides send() vs floor, ${events}-event body`, cpu.ownWorkRatio, 2),
      ),
    ...Object.entries(webhook.sqsCallsPerRequest).map(([events, calls]) =>
      exactly(`SendMessageBatch calls, n = ${events}`, calls, Math.ceil(Number(events) / 10)),
    ),
    // "The same within noise": the sampled ratios' median, with 15% for a noisy shared machine.
    ...Object.entries(webhook.cpuRatioByChannels)
      .slice(1)
      .map(([count, ratio]) => atMost(`webhook CPU with ${count} channels vs 1`, ratio, 1.15)),
  ];
}

export interface WorkerTargetFigures {
  runs: readonly ThroughputRun[];
  belowLimit: BelowLimitRun;
  /** per registration variant, at 100 calls/min and the deployed concurrency */
  newFollowersPerHourPer100Rpm: Record<string, number>;
  cost: CostPer1M;
}

export function checkTargets(
  webhook: WebhookFigures,
  coldStart: ColdStartFigures,
  economy: CallEconomy,
  { runs, belowLimit, newFollowersPerHourPer100Rpm, cost }: WorkerTargetFigures,
  backfill: BackfillFigures,
): TargetCheck[] {
  const perRun = (run: ThroughputRun) => `${run.variant}, ${run.rateLimitPerMinute}/min, ${run.concurrency} worker(s)`;
  const followersPerHour = (variant: keyof CallEconomy) => newFollowersPerHourPer100Rpm[variant] ?? NaN;
  const followersPerHourRatio = (variant: keyof CallEconomy) =>
    round(followersPerHour(variant) / followersPerHour(SEPARATE_CALLS_VARIANT), 2);
  return [
    ...webhookTargets(webhook),
    atMost('webhook cold start ratio', coldStart.ratio.webhook ?? NaN, 2),
    atMost('Capillary calls, new follower (line-only)', economy['line-only'].newFollower.capillary, 1),
    atMost('Capillary calls, new follower (instore+line)', economy['instore+line'].newFollower.capillary, 2),
    // "Today" is the separate calls of before the folding, measured in the same run under the same limiter.
    atLeast(
      'new followers/h per 100/min (line-only), ratio to the separate calls',
      followersPerHourRatio('line-only'),
      3,
    ),
    atLeast(
      'new followers/h per 100/min (instore+line), ratio to the separate calls',
      followersPerHourRatio('instore+line'),
      1.5,
    ),
    atMost('cost per 1M follows at 100 calls/min, USD', cost.total['100'] ?? NaN, 5),
    ...Object.entries(economy).flatMap(([mode, cases]) => [
      exactly(`Capillary calls, unfollow (${mode})`, cases.unfollow.capillary, 1),
      exactly(`Capillary calls, duplicate (${mode})`, cases.duplicate.capillary, 0),
      exactly(`Capillary calls, stale (${mode})`, cases.stale.capillary, 0),
      atMost(
        `most DynamoDB writes of any event (${mode})`,
        Math.max(...Object.values(cases).map((calls) => calls.dynamoWrites)),
        2,
      ),
    ]),
    ...runs.flatMap((run) => [
      atLeast(`rate utilisation, ${perRun(run)}`, run.rateUtilisation, 0.9),
      exactly(`over-limit calls, ${perRun(run)}`, run.overLimit, 0),
      atMost(`limiter writes per Capillary call, ${perRun(run)}`, run.limiterWritesPerCapillaryCall, 0.5),
      // Not one of the targets: events a batch could not finish within the Lambda timeout go back to
      // the queue, and their retry costs Capillary calls again.
      exactly(`events failed (timeout budget), ${perRun(run)}`, run.failedEvents, 0),
    ]),
    exactly(`over-limit calls, followers arriving below ${belowLimit.rateLimitPerMinute}/min`, belowLimit.overLimit, 0),
    exactly(`events failed, followers arriving below ${belowLimit.rateLimitPerMinute}/min`, belowLimit.failedEvents, 0),
    atMost('backfill Capillary calls per follower (batch 10)', backfill.capillaryCallsPerFollower, 0.11),
    exactly('backfill Capillary calls on a rerun', backfill.rerunCapillaryCalls, 0),
    exactly('over-limit calls while backfilling with live events', backfill.overLimit, 0),
  ];
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const missed = checks.filter((check) => !check.met).length;
  return renderTable(
    `Targets — ${checks.length - missed} met, ${missed} missed`,
    ['figure', 'value', 'target', 'met'],
    checks.map((check) => [check.what, check.value, check.target, check.met ? 'yes' : 'NO']),
  );
}

/**
 * Issue 23's targets for a burst of new friends (figure 5c). The lone follow's latency allows 15% for a noisy
 * shared machine (as the webhook's "same within noise"), plus the batching window, which a FIFO event source has not.
 */
/** Figure 5c's targets; with the full run's cost model, also the bill with bulk registration. */
export function burstTargets(burst: BurstFigures, bulkCost?: BulkCost): TargetCheck[] {
  return [
    ...(bulkCost
      ? [
          atMost(
            `cost per 1M follows at ${burst.rateLimitPerMinute} calls/min, bulk registration (request counting), USD`,
            bulkCost.request,
            5,
          ),
        ]
      : []),
    atLeast(
      'burst: new followers/h (instore+line, request counting), ratio to single calls',
      burst.followersPerHourRatio,
      8,
    ),
    atMost('burst: Capillary calls per new follower (instore+line, request counting)', burst.callsPerNewFollower, 0.15),
    atLeast(
      'burst: new followers/h (instore+line, record counting), ratio to single calls',
      burst.followersPerHourRatioRecordCounting,
      1,
    ),
    atMost(
      'lone follow p99 ms, bulk registration on',
      burst.loneFollowP99Ms,
      Math.round(burst.loneFollowP99MsToday * 1.15),
    ),
  ];
}

/**
 * Issue 21's targets for a burst of engagement events (figure 5d): followers' delay within 10 % of the run without the
 * burst, one ingest call per event, none over Capillary's limit or the ingest URL's own.
 */
export function engagementTargets(figures: EngagementFigures): TargetCheck[] {
  return [
    atMost('engagement burst: follower delay p99, ratio to no burst', figures.followerDelayP99Ratio, 1.1),
    exactly('engagement burst: ingest calls per event', figures.ingestCallsPerEvent, 1),
    exactly("engagement burst: calls over Capillary's limit or the ingest URL's", figures.overLimit, 0),
  ];
}
