/**
 * npm run chaos [-- --seed N] [--users 1000] [--min-events 8] [--max-events 14] [--instances 6]
 * npm run chaos -- --backfill [--seed N] [--followers 5000]
 *
 * The full chaos run: ≥ 10,000 LINE events over ≥ 1,000 users, through the real webhook, a local FIFO
 * queue and the real worker, against the Capillary and LINE stand-ins, with redeliveries, Capillary
 * faults and worker crashes. Prints what happened and what survived; exits 1 if any check failed.
 * The same seed replays the same scenario (timing between workers still varies).
 */
import { startAwsServers } from '../local/aws-servers';
import { runBackfillChaos } from '../local/chaos/backfill-chaos';
import { chaosChecks, formatChaosReport, runChaos } from '../local/chaos/chaos-run';
import { startChaosServices } from '../local/chaos/chaos-services';
import { quietOldNodeWarning } from '../local/node-support';
import { parseCli } from './cli';

const USAGE = `usage: npm run chaos [-- --seed N] [--users 1000] [--min-events 8] [--max-events 14] [--instances 6]
       npm run chaos -- --backfill [--seed N] [--followers 5000]`;

quietOldNodeWarning();
const { values } = parseCli(USAGE, {
  seed: { type: 'string' },
  users: { type: 'string', default: '1000' },
  'min-events': { type: 'string', default: '8' },
  'max-events': { type: 'string', default: '14' },
  instances: { type: 'string', default: '6' },
  backfill: { type: 'boolean', default: false },
  followers: { type: 'string', default: '5000' },
});

/** The backfill under chaos (local/chaos/backfill-chaos.ts): ≥ 5,000 followers, live events for the same users, faults, crashes. */
async function backfillChaos(seed: number): Promise<number> {
  const followers = Number(values.followers);
  process.stdout.write(`Backfill chaos run with seed ${seed} (replay: npm run chaos -- --backfill --seed ${seed})…\n`);
  const report = await runBackfillChaos(
    { seed, followers, liveUsers: Math.round(followers / 10), eventsPerLiveUser: 4, rejectedForGood: 10 },
    30 * 60_000,
  );
  process.stdout.write(`${JSON.stringify(report.figures, null, 2)}\n`);
  for (const problem of report.problems.slice(0, 20))
    process.stdout.write(`  ${problem.kind}: user ${problem.userId}: ${problem.detail}\n`);
  process.stdout.write(
    `log lines scanned: ${report.logScan.lines}, findings: ${JSON.stringify(report.logScan.findings)}\n`,
  );
  const passed = report.problems.length === 0 && Object.keys(report.logScan.findings).length === 0 && followers >= 5000;
  process.stdout.write(
    passed
      ? 'Every user ends as LINE says: no duplicate, nobody lost.\n'
      : `FAILED: ${report.problems.length} problem(s)\n`,
  );
  return passed ? 0 : 1;
}

const FULL_RUN_MINIMUM = { users: 1000, eventsSent: 10_000, lambdaTimeouts: 1 };

async function main(): Promise<number> {
  const aws = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, aws.env);
  const seed = Number(values.seed ?? Date.now() % 2 ** 31);
  if (values.backfill) {
    try {
      return await backfillChaos(seed);
    } finally {
      await aws.stop();
    }
  }
  const services = await startChaosServices();
  try {
    process.stdout.write(`Chaos run with seed ${seed} (replay: npm run chaos -- --seed ${seed})…\n`);
    const report = await runChaos(services, {
      seed,
      users: Number(values.users),
      eventsPerUser: { min: Number(values['min-events']), max: Number(values['max-events']) },
      fleet: {
        instances: Number(values.instances),
        functionTimeoutMs: 5000,
        claimTtlMs: 5500,
        visibilityTimeoutSeconds: 6,
        maxReceiveCount: 6,
        capillaryTimeoutMs: 300,
        webhookConcurrency: 4,
        drainDeadlineMs: 30 * 60_000,
      },
    });
    process.stdout.write(`${formatChaosReport(report)}\n`);
    for (const example of report.logScan.examples) process.stdout.write(`  log finding: ${example}\n`);
    for (const problem of report.problems.slice(0, 20))
      process.stdout.write(`  ${problem.kind}: user ${problem.userId}: ${problem.detail}\n`);
    const unmet = chaosChecks(report, FULL_RUN_MINIMUM).filter((check) => !check.met);
    process.stdout.write(
      unmet.length === 0 ? 'Every check passed.\n' : `FAILED: ${unmet.map((check) => check.requirement).join('; ')}\n`,
    );
    return unmet.length === 0 ? 0 : 1;
  } finally {
    await services.close();
    await aws.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
