/**
 * Figure 5: how much of Capillary's rate limit the worker fleet turns into customer updates. Lambda
 * concurrency C is played by C worker instances, each a process of its own (worker-instance-child.ts)
 * with its own deps from buildSyncDeps (its own token, DynamoDB client and share of the limiter's
 * bucket, one item in dynalite for all), taking batches of new followers from one shared backlog
 * through the real batch processor, against the Capillary stand-in enforcing the limit over a sliding
 * minute.
 *
 * A full drain of 2,000 events at 100 RPM would take 20 minutes per concurrency, so each run drains for
 * a fixed window: workers stop taking new batches after it and finish the batch in hand. The rate is
 * measured over the whole run, tail included.
 */
import path from 'node:path';

import type { WorkerConfig } from '../lib/config/worker-config';
import type { EngagementRule } from '../lib/domain/engagement-rules';
import { followEvent, lineUserId } from '../local/line-event-factory';
import { sqsRecordFor, startWorkerHarness, type RigCapillarySettings } from '../local/rigs/worker-rig';
import { ChildChannel } from './child-channel';
import type { DeployedFunction } from './deployment';
import type { BenchProfile } from './profiles';
import { median, percentile, round } from './stats';
import { renderTable } from './table';
import { REGISTRATION_VARIANTS, type RegistrationVariant } from './worker-economy';

type ThroughputProfile = BenchProfile['throughput'];

export interface ThroughputRun {
  variant: RegistrationVariant;
  rateLimitPerMinute: number;
  concurrency: number;
  /** events synced (batch items not reported as failed) */
  events: number;
  /** batch items reported as failed: back to the queue, to cost their calls again on the retry */
  failedEvents: number;
  elapsedSeconds: number;
  /** Capillary calls the stand-in accepted (OAuth token requests excluded) */
  capillaryCalls: number;
  /** accepted calls per minute ÷ the limit */
  rateUtilisation: number;
  /** calls the stand-in refused with 429 for exceeding the limit */
  overLimit: number;
  eventsPerSecond: number;
  /** new followers synced per hour for every 100 calls/min of limit */
  newFollowersPerHourPer100Rpm: number;
  /** conditional writes (rejected ones included) of the shared limiter, all instances */
  limiterWrites: number;
  limiterWritesPerCapillaryCall: number;
  /** Lambda-billed worker time per synced event: batch wall time (pacing waits included) ÷ events */
  workerSecondsPerEvent: number;
  medianBatchSeconds: number;
  maxBatchSeconds: number;
}

export interface ThroughputSettings {
  profile: ThroughputProfile;
  /** as deployed: every limit and concurrency is measured in it */
  deployedVariant: RegistrationVariant;
  worker: DeployedFunction;
  batchSize: number;
  /** at the deployed concurrency (and the first limit) the other variants are measured too */
  deployedConcurrency: number;
  /** the instances the engagement queue's event source runs */
  engagementConcurrency: number;
}

/** What a worker instance process is started with, and what it answers for each batch. */
export interface WorkerInstanceSettings {
  config: WorkerConfig;
  worker: DeployedFunction;
  /** every new follower registered on its own (the single-call path), never in bulk */
  singleRegistrations: boolean;
  /** the engagement rules of every channel (a Map does not cross to the instance; none = engagement off) */
  engagementRules?: EngagementRule[];
}

/** What a run changes beside the registration variant: the worker's Capillary settings and the path it registers by. */
export interface RunVariation {
  capillary?: RigCapillarySettings;
  /** the stand-in counts a bulk call once per record (default) or once */
  bulkCountsPerRecord?: boolean;
  /** default true: figures 5 and 5b measure the single-call path; the bulk path is the burst figure's */
  singleRegistrations?: boolean;
}
export interface BatchDone {
  batchMs: number;
  failedEvents: number;
  /** this instance's limiter writes so far */
  limiterWrites: number;
  /** message id → when its record settled (epoch ms), for delays of single events */
  settledAt: Record<string, number>;
}

export async function startInstance(settings: WorkerInstanceSettings): Promise<ChildChannel> {
  // The parent's environment carries the dynalite endpoint and the quiet telemetry settings.
  const instance = new ChildChannel(
    path.join(__dirname, 'worker-instance-child.ts'),
    [JSON.stringify(settings)],
    process.env,
  );
  await instance.next<'ready'>();
  return instance;
}

interface RunSetup {
  harness: Awaited<ReturnType<typeof startWorkerHarness>>;
  instances: ChildChannel[];
}

/** Stand-ins enforcing `rateLimitPerMinute`, and `concurrency` worker instances on one shared bucket, for one run. */
async function withRun<T>(
  { profile, worker }: ThroughputSettings,
  variant: RegistrationVariant,
  rateLimitPerMinute: number,
  concurrency: number,
  run: (setup: RunSetup) => Promise<T>,
  { capillary, bulkCountsPerRecord, singleRegistrations = true }: RunVariation = {},
): Promise<T> {
  const harness = await startWorkerHarness({
    capillary: { ...REGISTRATION_VARIANTS[variant], ...capillary, rateLimitPerMinute },
    capillaryStandIn: { latencyMs: profile.latencyMs, rateLimitPerMinute, bulkCountsPerRecord },
    lineStandIn: { latencyMs: profile.latencyMs },
  });
  const instances = await Promise.all(
    Array.from({ length: concurrency }, () => startInstance({ config: harness.config, worker, singleRegistrations })),
  );
  try {
    return await run({ harness, instances });
  } finally {
    for (const instance of instances) instance.stop();
    await harness.close();
  }
}

/** Capillary calls the stand-in accepted (OAuth token requests and 429s excluded). */
const acceptedCalls = ({ harness }: RunSetup): number =>
  harness.capillary.calls().filter((call) => !call.path.startsWith('/v3/oauth') && call.status !== 429).length;

export async function drainWindow(
  settings: ThroughputSettings,
  variant: RegistrationVariant,
  rateLimitPerMinute: number,
  concurrency: number,
  variation: RunVariation = {},
): Promise<ThroughputRun> {
  const { profile, batchSize } = settings;
  return withRun(
    settings,
    variant,
    rateLimitPerMinute,
    concurrency,
    async (setup) => {
      const { harness, instances } = setup;
      const backlog = Array.from({ length: profile.backlogEvents }, () => followEvent(lineUserId(), Date.now()));
      let taken = 0;
      const batchMs: number[] = [];
      let handed = 0;
      let failedEvents = 0;
      const limiterWrites = instances.map(() => 0);

      const started = Date.now();
      const deadline = started + profile.windowSeconds * 1000;
      await Promise.all(
        instances.map(async (instance, index) => {
          while (Date.now() < deadline && taken < backlog.length) {
            const batch = backlog.slice(taken, (taken += batchSize));
            const done = await instance.request<BatchDone>(batch.map((event) => sqsRecordFor(event)));
            batchMs.push(done.batchMs);
            handed += batch.length;
            failedEvents += done.failedEvents;
            limiterWrites[index] = done.limiterWrites;
          }
        }),
      );
      const elapsedMs = Date.now() - started;
      const synced = handed - failedEvents;
      const capillaryCalls = acceptedCalls(setup);
      const writes = limiterWrites.reduce((sum, count) => sum + count, 0);
      return {
        variant,
        rateLimitPerMinute,
        concurrency,
        events: synced,
        failedEvents,
        elapsedSeconds: round(elapsedMs / 1000, 1),
        capillaryCalls,
        rateUtilisation: round(capillaryCalls / ((rateLimitPerMinute * elapsedMs) / 60_000), 3),
        overLimit: harness.capillary.overLimitCount(),
        eventsPerSecond: round(synced / (elapsedMs / 1000), 2),
        newFollowersPerHourPer100Rpm: Math.round(((synced / elapsedMs) * 3_600_000 * 100) / rateLimitPerMinute),
        limiterWrites: writes,
        limiterWritesPerCapillaryCall: round(writes / capillaryCalls, 3),
        workerSecondsPerEvent: round(batchMs.reduce((sum, ms) => sum + ms, 0) / 1000 / synced, 3),
        medianBatchSeconds: round(median(batchMs) / 1000, 1),
        maxBatchSeconds: round(Math.max(...batchMs) / 1000, 1),
      };
    },
    variation,
  );
}

/** New followers arriving one at a time below the limit: what the worker is billed when it need not wait. */
export interface BelowLimitRun {
  variant: RegistrationVariant;
  rateLimitPerMinute: number;
  /** the arrival rate, and its share of the followers the limit carries in this variant */
  eventsPerMinute: number;
  shareOfCapacity: number;
  events: number;
  failedEvents: number;
  overLimit: number;
  capillaryCalls: number;
  /** each event is its own batch, as the event source delivers a queue that is not behind */
  workerSecondsPerEvent: number;
  limiterWritesPerCapillaryCall: number;
  /** 99th percentile of a follower's batch: from its arrival to its registration recorded */
  batchP99Ms: number;
}

/**
 * One instance, one new follower every 60/eventsPerMinute s, each its own batch (an event source that
 * is not behind delivers what arrives), for the profile's window.
 */
export async function measureBelowLimit(
  settings: ThroughputSettings,
  variant: RegistrationVariant,
  rateLimitPerMinute: number,
  callsPerFollower: number,
  variation: RunVariation = {},
): Promise<BelowLimitRun> {
  const { profile } = settings;
  const capacityPerMinute = rateLimitPerMinute / callsPerFollower;
  const eventsPerMinute = profile.belowLimitShare * capacityPerMinute;
  const gapMs = 60_000 / eventsPerMinute;
  return withRun(
    settings,
    variant,
    rateLimitPerMinute,
    1,
    async (setup) => {
      const [instance] = setup.instances as [ChildChannel];
      const batchMs: number[] = [];
      let failedEvents = 0;
      let limiterWrites = 0;
      const started = Date.now();
      for (let index = 0; index * gapMs < profile.windowSeconds * 1000; index++) {
        const wait = started + index * gapMs - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const done = await instance.request<BatchDone>([sqsRecordFor(followEvent(lineUserId(), Date.now()))]);
        batchMs.push(done.batchMs);
        failedEvents += done.failedEvents;
        limiterWrites = done.limiterWrites;
      }
      const capillaryCalls = acceptedCalls(setup);
      const synced = batchMs.length - failedEvents;
      return {
        variant,
        rateLimitPerMinute,
        eventsPerMinute: round(eventsPerMinute, 1),
        shareOfCapacity: profile.belowLimitShare,
        events: synced,
        failedEvents,
        overLimit: setup.harness.capillary.overLimitCount(),
        capillaryCalls,
        workerSecondsPerEvent: round(batchMs.reduce((sum, ms) => sum + ms, 0) / 1000 / synced, 3),
        limiterWritesPerCapillaryCall: round(limiterWrites / capillaryCalls, 3),
        batchP99Ms: Math.round(percentile(batchMs, 0.99)),
      };
    },
    variation,
  );
}

/**
 * One run per limit and concurrency in the deployed variant, then each other variant at the first limit
 * and the deployed concurrency; one after the other. Needs DynamoDB (dynalite) endpoints in process.env.
 */
export async function measureThroughput(
  settings: ThroughputSettings,
  concurrencies: readonly number[],
  onRun: (run: ThroughputRun) => void,
): Promise<ThroughputRun[]> {
  const { profile, deployedVariant, deployedConcurrency } = settings;
  const plan: [RegistrationVariant, number, number][] = profile.rateLimitsPerMinute.flatMap((limit) =>
    concurrencies.map((concurrency): [RegistrationVariant, number, number] => [deployedVariant, limit, concurrency]),
  );
  for (const variant of Object.keys(REGISTRATION_VARIANTS) as RegistrationVariant[]) {
    if (variant !== deployedVariant)
      plan.push([variant, profile.rateLimitsPerMinute[0] as number, deployedConcurrency]);
  }
  const runs: ThroughputRun[] = [];
  for (const [variant, limit, concurrency] of plan) {
    const run = await drainWindow(settings, variant, limit, concurrency);
    onRun(run);
    runs.push(run);
  }
  return runs;
}

export function throughputTable(runs: readonly ThroughputRun[], settings: ThroughputSettings): string {
  const { profile, worker } = settings;
  return renderTable(
    `Figure 5 — worker under Capillary's rate limit (new followers; stand-ins answer in ${profile.latencyMs} ms, ` +
      `${profile.windowSeconds} s window over a ${profile.backlogEvents}-event backlog; worker timeout ${worker.timeoutSeconds} s)`,
    [
      'mode',
      'limit/min',
      'workers',
      'events synced',
      'followers/h per 100/min',
      'Capillary calls',
      'utilisation (target ≥ 0.9)',
      'over limit (target 0)',
      'limiter writes/call',
      'batch s median',
      'batch s max',
      'events failed',
    ],
    runs.map((run) => [
      run.variant,
      run.rateLimitPerMinute,
      run.concurrency,
      run.events,
      run.newFollowersPerHourPer100Rpm,
      run.capillaryCalls,
      run.rateUtilisation,
      run.overLimit,
      run.limiterWritesPerCapillaryCall,
      run.medianBatchSeconds,
      `${run.maxBatchSeconds}${run.maxBatchSeconds > worker.timeoutSeconds ? ' (> timeout)' : ''}`,
      run.failedEvents,
    ]),
  );
}

export function belowLimitTable(run: BelowLimitRun, latencyMs: number): string {
  return renderTable(
    `Figure 5b — new followers arriving below the limit, each its own batch (1 instance, stand-ins answer in ${latencyMs} ms)`,
    [
      'mode',
      'limit/min',
      'followers/min',
      'share of what the limit carries',
      'events synced',
      'Capillary calls',
      'over limit (target 0)',
      'worker s per event',
      'limiter writes/call',
      'events failed',
    ],
    [
      [
        run.variant,
        run.rateLimitPerMinute,
        run.eventsPerMinute,
        run.shareOfCapacity,
        run.events,
        run.capillaryCalls,
        run.overLimit,
        run.workerSecondsPerEvent,
        run.limiterWritesPerCapillaryCall,
        run.failedEvents,
      ],
    ],
  );
}
