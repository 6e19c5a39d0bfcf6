/** One bench run: every figure in turn (never two at once, so none steals the other's CPU), then the cost model. */
import { cpus } from 'node:os';
import type { RegistrationMode } from '../lib/config/config';
import { startAwsServers } from '../local/aws-servers';
import { type BackfillFigures, backfillTable, measureBackfill } from './backfill';
import { type ColdStartFigures, coldStartTable, measureColdStart } from './cold-start';
import { type CostPer1M, costPer1M, costTable } from './cost';
import { packageDeployment } from './deployment';
import type { BenchProfile } from './profiles';
import { byKey } from './stats';
import { type TargetCheck, checkTargets, targetsTable } from './targets';
import { type WebhookFigures, measureWebhook, webhookTables } from './webhook-cpu';
import { type CallEconomy, economyTable, measureCallEconomy } from './worker-economy';
import { type ThroughputRun, type ThroughputSettings, measureThroughput, throughputTable } from './worker-throughput';

export interface BenchResults {
  date: string;
  node: string;
  cores: number;
  cpuModel: string;
  profile: BenchProfile['name'];
  durationSeconds: number;
  deployed: { webhookMemoryMb: number; workerMemoryMb: number; workerTimeoutSeconds: number; workerBatchSize: number; workerMaxConcurrency: number;
    registrationMode: RegistrationMode; capillaryRateLimitPerMinute: number };
  webhook: { cpuRatio: Record<string, number> } & WebhookFigures;
  coldStart: ColdStartFigures;
  worker: {
    callsPerEvent: CallEconomy;
    /** per configured limit, then per number of worker instances */
    rateUtilisation: Record<string, Record<string, number>>;
    overLimit: Record<string, Record<string, number>>;
    eventsPerSecond: Record<string, Record<string, number>>;
    throughput: { settings: BenchProfile['throughput']; runs: ThroughputRun[] };
  };
  costPer1M: CostPer1M & { workerConcurrency: number };
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
    const registrationMode = worker.environment.CAPILLARY_REGISTRATION_MODE as RegistrationMode;
    progress('figures 1–2: webhook CPU and SQS calls…');
    const webhookFigures = await measureWebhook(profile.webhook, webhook);
    progress('figure 3: cold start…');
    const coldStart = measureColdStart(profile.coldStart.rounds, deployment);

    // The worker figures run against dynalite; the SDK clients they create read its endpoint from the environment.
    const servers = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
    Object.assign(process.env, servers.env);
    let economy: CallEconomy;
    let runs: ThroughputRun[];
    let backfill: BackfillFigures;
    const settings: ThroughputSettings = { profile: profile.throughput, registrationMode, worker, batchSize: deployment.workerBatchSize };
    try {
      progress('figure 4: worker calls per event…');
      economy = await measureCallEconomy(profile.economy.usersPerCase);
      const concurrencies = [...new Set([...profile.throughput.concurrencies, deployment.workerMaxConcurrency])].sort((a, b) => a - b);
      runs = await measureThroughput(settings, concurrencies, (run) =>
        progress(`figure 5: ${run.rateLimitPerMinute}/min, ${run.concurrency} worker(s): ${run.events} events, utilisation ${run.rateUtilisation}`));
      progress('figure 7: backfill…');
      backfill = await measureBackfill(profile.backfill, progress);
    } finally {
      await servers.stop();
    }

    const perLimitAndConcurrency = (value: (run: ThroughputRun) => number) => byKey(profile.throughput.rateLimitsPerMinute, (limit) =>
      Object.fromEntries(runs.filter((run) => run.rateLimitPerMinute === limit).map((run) => [run.concurrency, value(run)])));
    const atDeployedConcurrency = runs.filter((run) => run.concurrency === deployment.workerMaxConcurrency);
    const cost = costPer1M({
      deployment,
      webhookCpuMicros: webhookFigures.cpu[1]?.handlerMicros ?? NaN,
      sqsCallsPerWebhook: webhookFigures.sqsCallsPerRequest[1] ?? NaN,
      // on-link registers nobody at follow time; its calls come at link time, costed like an instore+line follower.
      newFollower: economy[registrationMode === 'on-link' ? 'instore+line' : registrationMode].newFollower,
      workerSecondsPerEvent: Object.fromEntries(atDeployedConcurrency.map((run) => [run.rateLimitPerMinute, run.workerSecondsPerEvent])),
    });
    const targets = checkTargets(webhookFigures, coldStart, economy, runs, backfill);
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
        registrationMode,
        capillaryRateLimitPerMinute: Number(worker.environment.CAPILLARY_RATE_LIMIT_RPM),
      },
      webhook: { cpuRatio: byKey(Object.keys(webhookFigures.cpu), (events) => webhookFigures.cpu[events]?.ratio ?? NaN), ...webhookFigures },
      coldStart,
      worker: {
        callsPerEvent: economy,
        rateUtilisation: perLimitAndConcurrency((run) => run.rateUtilisation),
        overLimit: perLimitAndConcurrency((run) => run.overLimit),
        eventsPerSecond: perLimitAndConcurrency((run) => run.eventsPerSecond),
        throughput: { settings: profile.throughput, runs },
      },
      costPer1M: { ...cost, workerConcurrency: deployment.workerMaxConcurrency },
      backfill,
      targets,
      tables: [
        ...webhookTables(webhookFigures),
        coldStartTable(coldStart),
        economyTable(economy),
        throughputTable(runs, settings),
        costTable(cost, deployment.workerMaxConcurrency),
        backfillTable(backfill, profile.backfill),
        targetsTable(targets),
      ],
    };
  } finally {
    deployment.dispose();
  }
}
