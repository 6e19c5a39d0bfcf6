/**
 * Figure 5c: a campaign's burst of new friends (instore+line) at the first limit and the deployed concurrency,
 * registered one by one (the single-call path, "today") and in bulk (lib/worker/bulk) with a bulk call counting
 * once (`request`) and once per record (`record`), each against the same stand-ins under the same limiter; then
 * lone follows (no burst), each its own batch, on both paths. Ratios are against this run's single-call path.
 *
 * The worker's queue is FIFO, and Lambda takes no batching window for a FIFO event source, so batches fill only
 * from what waits in the queue: during a burst they are full, a lone follow is its own batch at once.
 */
import type { BenchProfile } from './profiles';
import { round } from './stats';
import { renderTable } from './table';
import {
  drainWindow,
  measureBelowLimit,
  type RunVariation,
  type ThroughputRun,
  type ThroughputSettings,
} from './worker-throughput';

const VARIANT = 'instore+line';

export interface BurstFigures {
  variant: typeof VARIANT;
  rateLimitPerMinute: number;
  concurrency: number;
  /** new followers per hour in bulk with `request` counting ÷ the single-call path's */
  followersPerHourRatio: number;
  /** Capillary calls per new follower in bulk with `request` counting */
  callsPerNewFollower: number;
  /** the same ratio with `record` counting (a bulk call of N takes N tokens) */
  followersPerHourRatioRecordCounting: number;
  /** a lone follow's batch (arrival to registration recorded), 99th percentile, with bulk registration on */
  loneFollowP99Ms: number;
  /** the same on the single-call path */
  loneFollowP99MsToday: number;
  runs: { single: ThroughputRun; bulkRequest: ThroughputRun; bulkRecord: ThroughputRun };
}

const BULK_REQUEST: RunVariation = {
  capillary: { bulkCountsAs: 'request' },
  bulkCountsPerRecord: false,
  singleRegistrations: false,
};
const BULK_RECORD: RunVariation = {
  capillary: { bulkCountsAs: 'record' },
  bulkCountsPerRecord: true,
  singleRegistrations: false,
};

/** Needs DynamoDB (dynalite) endpoints in process.env. */
export async function measureBurst(
  burst: BenchProfile['burst'],
  settings: Omit<ThroughputSettings, 'profile'> & { profile: BenchProfile['throughput'] },
  progress: (line: string) => void,
): Promise<BurstFigures> {
  const { rateLimitPerMinute, backlogEvents, windowSeconds, latencyMs, loneFollowSeconds } = burst;
  const concurrency = settings.deployedConcurrency;
  const burstSettings: ThroughputSettings = {
    ...settings,
    profile: { ...settings.profile, backlogEvents, windowSeconds, latencyMs },
  };
  const drain = async (name: string, variation: RunVariation) => {
    const run = await drainWindow(burstSettings, VARIANT, rateLimitPerMinute, concurrency, variation);
    progress(`figure 5c: burst, ${name}: ${run.events} new followers, ${run.capillaryCalls} Capillary calls`);
    return run;
  };
  const single = await drain('single calls', { singleRegistrations: true });
  const bulkRequest = await drain('bulk, request counting', BULK_REQUEST);
  const bulkRecord = await drain('bulk, record counting', BULK_RECORD);
  const loneSettings: ThroughputSettings = {
    ...settings,
    profile: { ...settings.profile, windowSeconds: loneFollowSeconds, latencyMs },
  };
  const lone = (variation: RunVariation) => measureBelowLimit(loneSettings, VARIANT, rateLimitPerMinute, 2, variation);
  const loneToday = await lone({ singleRegistrations: true });
  const loneBulk = await lone(BULK_REQUEST);
  progress(`figure 5c: lone follows, p99 ${loneBulk.batchP99Ms} ms (single-call path ${loneToday.batchP99Ms} ms)`);
  const ratio = (run: ThroughputRun) =>
    round(run.newFollowersPerHourPer100Rpm / single.newFollowersPerHourPer100Rpm, 2);
  return {
    variant: VARIANT,
    rateLimitPerMinute,
    concurrency,
    followersPerHourRatio: ratio(bulkRequest),
    callsPerNewFollower: round(bulkRequest.capillaryCalls / bulkRequest.events, 3),
    followersPerHourRatioRecordCounting: ratio(bulkRecord),
    loneFollowP99Ms: loneBulk.batchP99Ms,
    loneFollowP99MsToday: loneToday.batchP99Ms,
    runs: { single, bulkRequest, bulkRecord },
  };
}

export function burstTable(figures: BurstFigures, burst: BenchProfile['burst']): string {
  const rows: [string, ThroughputRun][] = [
    ['single calls (today)', figures.runs.single],
    ['bulk, a call counts once (request)', figures.runs.bulkRequest],
    ['bulk, a call counts per record (record)', figures.runs.bulkRecord],
  ];
  return renderTable(
    `Figure 5c — a burst of new friends (${VARIANT}, ${figures.rateLimitPerMinute}/min, ${figures.concurrency} workers, ` +
      `${burst.windowSeconds} s over a ${burst.backlogEvents}-event backlog; stand-ins answer in ${burst.latencyMs} ms)`,
    [
      'registration',
      'new followers',
      'followers/h per 100/min',
      'ratio',
      'Capillary calls',
      'calls/follower',
      'over limit',
      'failed',
    ],
    rows.map(([name, run]) => [
      name,
      run.events,
      run.newFollowersPerHourPer100Rpm,
      round(run.newFollowersPerHourPer100Rpm / figures.runs.single.newFollowersPerHourPer100Rpm, 2),
      run.capillaryCalls,
      round(run.capillaryCalls / run.events, 3),
      run.overLimit,
      run.failedEvents,
    ]),
  );
}
