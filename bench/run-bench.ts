/** One bench run: every figure in turn (never two at once, so none steals the other's CPU), then the cost model. */
import { cpus } from 'node:os';

import { startAwsServers } from '../local/aws-servers';
import { backfillTable, measureBackfill, type BackfillFigures } from './backfill';
import { coldStartTable, measureColdStart, type ColdStartFigures } from './cold-start';
import { costPer1M, costTable, type BelowLimitCost, type BulkCost, type CostPer1M } from './cost';
import { packageDeployment } from './deployment';
import { engagementTable, measureEngagementBurst, type EngagementFigures } from './engagement-burst';
import { loyaltyTable, loyaltyTargets, measureLoyalty, type LoyaltyFigures } from './loyalty';
import type { BenchProfile } from './profiles';
import { byKey } from './stats';
import {
  burstTargets,
  checkTargets,
  engagementTargets,
  targetsTable,
  webhookTargets,
  type TargetCheck,
} from './targets';
import { measureWebhook, webhookTables, type WebhookFigures } from './webhook-cpu';
import { burstTable, measureBurst, type BurstFigures } from './worker-burst';
import {
  economyTable,
  measureCallEconomy,
  SEPARATE_CALLS_VARIANT,
  type CallEconomy,
  type RegistrationVariant,
} from './worker-economy';
import {
  belowLimitTable,
  measureBelowLimit,
  measureThroughput,
  throughputTable,
  type BelowLimitRun,
  type ThroughputRun,
  type ThroughputSettings,
} from './worker-throughput';

export interface BenchResults {
  date: string;
  node: string;
  cores: number;
  cpuModel: string;
  profile: BenchProfile['name'];
  durationSeconds: number;
  deployed: {
    webhookMemoryMb: number;
    workerMemoryMb: number;
    workerTimeoutSeconds: number;
    workerBatchSize: number;
    workerMaxConcurrency: number;
    registrationVariant: RegistrationVariant;
    capillaryRateLimitPerMinute: number;
  };
  webhook: { cpuRatio: Record<string, number> } & WebhookFigures;
  coldStart: ColdStartFigures;
  /** figure 8: loyalty in LINE */
  loyalty: LoyaltyFigures;
  worker: {
    callsPerEvent: CallEconomy;
    /** per configured limit, then per number of worker instances (the deployed registration variant) */
    rateUtilisation: Record<string, Record<string, number>>;
    overLimit: Record<string, Record<string, number>>;
    eventsPerSecond: Record<string, Record<string, number>>;
    limiterWritesPerCapillaryCall: Record<string, Record<string, number>>;
    /** per registration variant, at the first limit and the deployed concurrency */
    newFollowersPerHourPer100Rpm: Record<string, number>;
    throughput: { settings: BenchProfile['throughput']; runs: ThroughputRun[] };
    /** new followers arriving one at a time below the first limit, in the deployed variant */
    belowLimit: BelowLimitRun;
    /** a burst of new friends: single calls against bulk registration (figure 5c) */
    burst: BurstFigures;
    /** postback taps while new followers arrive (figure 5d) */
    engagement: EngagementFigures;
  };
  costPer1M: CostPer1M & {
    workerConcurrency: number;
    registrationVariant: RegistrationVariant;
    /** total at the first limit, per registration variant */
    totalByVariant: Record<string, number>;
    /** at the first limit, followers arriving below it (one per invocation) */
    belowLimit: BelowLimitCost;
    /** total at the burst's limit with the live bulk registration (figure 5c), per way a bulk call counts */
    totalWithBulk: BulkCost;
  };
  backfill: BackfillFigures;
  targets: TargetCheck[];
  /** the printed tables, as Markdown */
  tables: string[];
}

export async function runBench(profile: BenchProfile, progress: (line: string) => void): Promise<BenchResults> {
  const started = Date.now();
  progress('packaging with sls package (as a deployment would)…');
  const deployment = packageDeployment();
  try {
    const { webhook, worker } = deployment;
    // on-link registers nobody at follow time; its calls come at link time, measured like an instore+line follower.
    const registrationVariant: RegistrationVariant =
      worker.environment.CAPILLARY_REGISTRATION_MODE === 'line-only'
        ? 'line-only'
        : worker.environment.CAPILLARY_REGISTER_PROFILES_TOGETHER === 'true'
          ? 'instore+line, profiles together'
          : worker.environment.CAPILLARY_SUBSCRIBE_ON_REGISTER === 'false'
            ? SEPARATE_CALLS_VARIANT
            : 'instore+line';
    progress('figures 1–2: webhook CPU and SQS calls…');
    const webhookFigures = await measureWebhook(profile.webhook, webhook);
    progress('figure 3: cold start…');
    const coldStart = measureColdStart(profile.coldStart.rounds, deployment);

    // The worker figures run against dynalite; the SDK clients they create read its endpoint from the environment.
    const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
    Object.assign(process.env, servers.env);
    let economy: CallEconomy;
    let runs: ThroughputRun[];
    let belowLimit: BelowLimitRun;
    let burst: BurstFigures;
    let engagement: EngagementFigures;
    let backfill: BackfillFigures;
    let loyalty: LoyaltyFigures;
    const settings: ThroughputSettings = {
      profile: profile.throughput,
      deployedVariant: registrationVariant,
      worker,
      batchSize: deployment.workerBatchSize,
      deployedConcurrency: deployment.workerMaxConcurrency,
      engagementConcurrency: deployment.engagementMaxConcurrency,
    };
    try {
      progress('figure 4: worker calls per event…');
      economy = await measureCallEconomy(profile.economy.usersPerCase);
      const concurrencies = [...new Set([...profile.throughput.concurrencies, deployment.workerMaxConcurrency])].sort(
        (a, b) => a - b,
      );
      runs = await measureThroughput(settings, concurrencies, (run) =>
        progress(
          `figure 5: ${run.rateLimitPerMinute}/min, ${run.concurrency} worker(s): ${run.events} events, utilisation ${run.rateUtilisation}`,
        ),
      );
      belowLimit = await measureBelowLimit(
        settings,
        registrationVariant,
        profile.throughput.rateLimitsPerMinute[0] as number,
        economy[registrationVariant].newFollower.capillary,
      );
      progress(
        `figure 5b: ${belowLimit.eventsPerMinute} followers/min below ${belowLimit.rateLimitPerMinute}/min: ${belowLimit.workerSecondsPerEvent} worker s each`,
      );
      burst = await measureBurst(profile.burst, settings, progress);
      engagement = await measureEngagementBurst(profile.engagement, settings, progress);
      progress('figure 7: backfill…');
      backfill = await measureBackfill(profile.backfill, progress);
      loyalty = await measureLoyalty(profile.loyalty, progress);
    } finally {
      await servers.stop();
    }

    const deployedRuns = runs.filter((run) => run.variant === registrationVariant);
    const perLimitAndConcurrency = (value: (run: ThroughputRun) => number) =>
      byKey(profile.throughput.rateLimitsPerMinute, (limit) =>
        Object.fromEntries(
          deployedRuns.filter((run) => run.rateLimitPerMinute === limit).map((run) => [run.concurrency, value(run)]),
        ),
      );
    const firstLimit = profile.throughput.rateLimitsPerMinute[0];
    /** runs at the deployed concurrency: every limit in the deployed variant, the first limit in the others */
    const atDeployedConcurrency = runs.filter((run) => run.concurrency === deployment.workerMaxConcurrency);
    const costOf = (
      variant: RegistrationVariant,
      variantRuns: readonly Pick<
        ThroughputRun,
        'rateLimitPerMinute' | 'workerSecondsPerEvent' | 'limiterWritesPerCapillaryCall'
      >[],
      eventsPerWorkerInvocation?: number,
      capillaryCallsPerNewFollower = economy[variant].newFollower.capillary,
    ) =>
      costPer1M({
        deployment,
        webhookCpuMicros: webhookFigures.cpu[1]?.handlerMicros ?? NaN,
        sqsCallsPerWebhook: webhookFigures.sqsCallsPerRequest[1] ?? NaN,
        newFollower: { ...economy[variant].newFollower, capillary: capillaryCallsPerNewFollower },
        workerSecondsPerEvent: Object.fromEntries(
          variantRuns.map((run) => [run.rateLimitPerMinute, run.workerSecondsPerEvent]),
        ),
        limiterWritesPerCapillaryCall: Object.fromEntries(
          variantRuns.map((run) => [run.rateLimitPerMinute, run.limiterWritesPerCapillaryCall]),
        ),
        eventsPerWorkerInvocation,
      });
    const backlogCostOf = (variant: RegistrationVariant) =>
      costOf(
        variant,
        atDeployedConcurrency.filter((run) => run.variant === variant),
      );
    const cost = backlogCostOf(registrationVariant);
    const belowLimitCost: BelowLimitCost = {
      cost: costOf(registrationVariant, [belowLimit], 1),
      rateLimitPerMinute: belowLimit.rateLimitPerMinute,
      shareOfCapacity: belowLimit.shareOfCapacity,
    };
    // A bulk-registered follower costs the same DynamoDB work as a single one; its Capillary calls and the worker's
    // paced waits are what the burst measured.
    const bulkCostOf = (run: ThroughputRun) =>
      costOf(burst.variant, [run], undefined, run.capillaryCalls / run.events).total[String(run.rateLimitPerMinute)] ??
      NaN;
    const totalWithBulk: BulkCost = {
      request: bulkCostOf(burst.runs.bulkRequest),
      record: bulkCostOf(burst.runs.bulkRecord),
    };
    const variants = Object.keys(economy) as RegistrationVariant[];
    const totalByVariant = byKey(variants, (variant) => backlogCostOf(variant).total[String(firstLimit)] ?? NaN);
    const newFollowersPerHourPer100Rpm = byKey(
      variants,
      (variant) =>
        atDeployedConcurrency.find((run) => run.variant === variant && run.rateLimitPerMinute === firstLimit)
          ?.newFollowersPerHourPer100Rpm ?? NaN,
    );
    const targets = [
      ...checkTargets(
        webhookFigures,
        coldStart,
        economy,
        { runs, belowLimit, newFollowersPerHourPer100Rpm, cost },
        backfill,
      ),
      ...burstTargets(burst, totalWithBulk),
      ...engagementTargets(engagement),
      ...loyaltyTargets(loyalty),
    ];
    return {
      date: new Date().toISOString(),
      node: process.version,
      cores: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      profile: profile.name,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      deployed: {
        webhookMemoryMb: webhook.memoryMb,
        workerMemoryMb: worker.memoryMb,
        workerTimeoutSeconds: worker.timeoutSeconds,
        workerBatchSize: deployment.workerBatchSize,
        workerMaxConcurrency: deployment.workerMaxConcurrency,
        registrationVariant,
        capillaryRateLimitPerMinute: Number(worker.environment.CAPILLARY_RATE_LIMIT_RPM),
      },
      webhook: webhookResults(webhookFigures),
      coldStart,
      worker: {
        callsPerEvent: economy,
        rateUtilisation: perLimitAndConcurrency((run) => run.rateUtilisation),
        overLimit: perLimitAndConcurrency((run) => run.overLimit),
        eventsPerSecond: perLimitAndConcurrency((run) => run.eventsPerSecond),
        limiterWritesPerCapillaryCall: perLimitAndConcurrency((run) => run.limiterWritesPerCapillaryCall),
        newFollowersPerHourPer100Rpm,
        throughput: { settings: profile.throughput, runs },
        belowLimit,
        burst,
        engagement,
      },
      costPer1M: {
        ...cost,
        workerConcurrency: deployment.workerMaxConcurrency,
        registrationVariant,
        totalByVariant,
        belowLimit: belowLimitCost,
        totalWithBulk,
      },
      backfill,
      loyalty,
      targets,
      tables: [
        ...webhookTables(webhookFigures),
        coldStartTable(coldStart),
        economyTable(economy),
        throughputTable(runs, settings),
        belowLimitTable(belowLimit, profile.throughput.latencyMs),
        burstTable(burst, profile.burst),
        engagementTable(engagement, profile.engagement),
        costTable(
          cost,
          deployment.workerMaxConcurrency,
          registrationVariant,
          totalByVariant,
          belowLimitCost,
          totalWithBulk,
        ),
        backfillTable(backfill, profile.backfill),
        loyaltyTable(loyalty),
        targetsTable(targets),
      ],
    };
  } finally {
    deployment.dispose();
  }
}

/** One figure's part of the results file, as `--only` measures and writes it. */
export interface BenchPart<F> {
  figures: F;
  /** its tables, in the order the full run prints them */
  tables: string[];
  targets: TargetCheck[];
}

/** The results file's webhook part: figures 1, 1b and 2, and figure 1's ratio per body size on its own. */
export const webhookResults = (figures: WebhookFigures): BenchResults['webhook'] => ({
  cpuRatio: byKey(Object.keys(figures.cpu), (events) => figures.cpu[events]?.ratio ?? NaN),
  ...figures,
});

/** Figures 1, 1b and 2 alone (`npm run bench -- --only webhook`): the packaged webhook's settings, as the full run. */
export async function runWebhookOnly(
  profile: BenchProfile,
  progress: (line: string) => void,
): Promise<BenchPart<WebhookFigures>> {
  progress('packaging with sls package (as a deployment would)…');
  const deployment = packageDeployment();
  try {
    progress('figures 1–2: webhook CPU and SQS calls…');
    const webhook = await measureWebhook(profile.webhook, deployment.webhook);
    return { figures: webhook, tables: webhookTables(webhook), targets: webhookTargets(webhook) };
  } finally {
    deployment.dispose();
  }
}

/** The packaged worker and dynalite for one figure alone, the settings as the full run measures it. */
async function withPackagedWorker<F>(
  progress: (line: string) => void,
  measure: (settings: ThroughputSettings) => Promise<BenchPart<F>>,
  profile: BenchProfile,
): Promise<BenchPart<F>> {
  progress('packaging with sls package (as a deployment would)…');
  const deployment = packageDeployment();
  const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, servers.env);
  try {
    return await measure({
      profile: profile.throughput,
      deployedVariant: 'instore+line',
      worker: deployment.worker,
      batchSize: deployment.workerBatchSize,
      deployedConcurrency: deployment.workerMaxConcurrency,
      engagementConcurrency: deployment.engagementMaxConcurrency,
    });
  } finally {
    await servers.stop();
    deployment.dispose();
  }
}

/** Figure 8 alone (`npm run bench -- --only loyalty`): the worker and the notifications function in process. */
export async function runLoyaltyOnly(
  profile: BenchProfile,
  progress: (line: string) => void,
): Promise<BenchPart<LoyaltyFigures>> {
  const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, servers.env);
  try {
    const loyalty = await measureLoyalty(profile.loyalty, progress);
    return { figures: loyalty, tables: [loyaltyTable(loyalty)], targets: loyaltyTargets(loyalty) };
  } finally {
    await servers.stop();
  }
}
/** Figure 5c alone (`npm run bench -- --only burst`). */
export const runBurstOnly = (profile: BenchProfile, progress: (line: string) => void) =>
  withPackagedWorker(
    progress,
    async (settings): Promise<BenchPart<BurstFigures>> => {
      const burst = await measureBurst(profile.burst, settings, progress);
      return { figures: burst, tables: [burstTable(burst, profile.burst)], targets: burstTargets(burst) };
    },
    profile,
  );

/** Figure 5d alone (`npm run bench -- --only engagement`). */
export const runEngagementOnly = (profile: BenchProfile, progress: (line: string) => void) =>
  withPackagedWorker(
    progress,
    async (settings): Promise<BenchPart<EngagementFigures>> => {
      const engagement = await measureEngagementBurst(profile.engagement, settings, progress);
      return {
        figures: engagement,
        tables: [engagementTable(engagement, profile.engagement)],
        targets: engagementTargets(engagement),
      };
    },
    profile,
  );
