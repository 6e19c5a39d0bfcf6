/**
 * npm run chaos [-- --seed N] [--users 1000] [--min-events 8] [--max-events 14] [--instances 6]
 *               [--anonymous detach|merge-request]
 * npm run chaos -- --backfill [--seed N] [--followers 5000]
 *
 * The full chaos run: ≥ 10,000 LINE events over ≥ 1,000 users, through the real webhook, a local FIFO
 * queue and the real worker, against the Capillary and LINE stand-ins, with redeliveries, Capillary
 * faults and worker crashes, its identity mix detaching anonymous customers on link; then a smaller run whose links
 * file Capillary merge requests instead (CAPILLARY_LINK_ANONYMOUS=merge-request, some answers lost; `--anonymous`
 * plays one mode alone, at the size asked); then the loyalty mix (tier changes, merges and deletions of members among their LINE
 * users' follows, links and unlinks, local/chaos/loyalty-scenario.ts). Prints what happened and what survived; exits 1
 * if any check failed. The same seed replays the same scenario (timing between workers still varies).
 */
import fc from 'fast-check';

import { maskUserId } from '../lib/observability/telemetry';
import { startAwsServers } from '../local/aws-servers';
import { runBackfillChaos } from '../local/chaos/backfill-chaos';
import { chaosChecks, formatChaosReport, runChaos, type ChaosReport } from '../local/chaos/chaos-run';
import { startChaosServices, type ChaosSecrets, type ChaosServices } from '../local/chaos/chaos-services';
import { findingsIn, scanLogsDuring } from '../local/chaos/log-scan';
import { loyaltyScenarioArbitrary, playLoyaltyScenario } from '../local/chaos/loyalty-scenario';
import type { FleetSettings } from '../local/chaos/play-scenario';
import { formatTable } from '../local/chaos/report-table';
import { quietOldNodeWarning } from '../local/node-support';
import { parseCli } from './cli';

const USAGE = `usage: npm run chaos [-- --seed N] [--users 1000] [--min-events 8] [--max-events 14] [--instances 6]
                     [--anonymous detach|merge-request]
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
  anonymous: { type: 'string' },
});
const ANONYMOUS_MODES = ['detach', 'merge-request'] as const;
type AnonymousMode = (typeof ANONYMOUS_MODES)[number];
if (values.anonymous !== undefined && !ANONYMOUS_MODES.includes(values.anonymous as AnonymousMode)) {
  process.stderr.write(`--anonymous takes ${ANONYMOUS_MODES.join(' or ')}\n${USAGE}\n`);
  process.exit(2);
}

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
/** The merge-request run after the main one: its users (events per user and the fleet as the main run's). */
const MERGE_REQUEST_RUN_USERS = 300;
const FLEET: FleetSettings = {
  instances: Number(values.instances),
  functionTimeoutMs: 5000,
  claimTtlMs: 5500,
  visibilityTimeoutSeconds: 6,
  maxReceiveCount: 6,
  capillaryTimeoutMs: 300,
  webhookConcurrency: 4,
  drainDeadlineMs: 30 * 60_000,
};
/** The loyalty mix's size: members and their LINE users, and steps (each a LINE event, a tier change, a merge or deletion). */
const LOYALTY_MIX = { users: 24, steps: 800, identityWeight: 3 };

/** The loyalty mix, seeded like the main run, its logs scanned; true when menus, answers and logs are as they must be. */
async function loyaltyMix(seed: number, secrets: ChaosSecrets): Promise<boolean> {
  const arbitrary = loyaltyScenarioArbitrary(LOYALTY_MIX.users, LOYALTY_MIX.steps, LOYALTY_MIX.identityWeight);
  const [scenario] = fc.sample(arbitrary, { seed, numRuns: 1 });
  const { result, logScan } = await scanLogsDuring(secrets, () => playLoyaltyScenario(scenario!));
  const { problems, counts } = result;
  const findings = findingsIn(logScan);
  const notices = (notified: number, events: number) => `${notified} notices, ${events} events`;
  process.stdout.write(
    `${formatTable('Loyalty mix (menus per tier, "my points", members merged and deleted)', [
      ['LINE events', counts.lineEvents],
      ['tier changes', notices(counts.tierNotifications, counts.tierEvents)],
      ['members merged / deleted', `${counts.membersMerged} / ${counts.membersDeleted}`],
      ['  their notifications', notices(counts.identityNotifications, counts.identityEvents)],
      ['linked friends at the end / users with a member menu', `${counts.linkedFriends} / ${counts.menusLinked}`],
      ['wrong menus, stray menus, chat answered twice', problems.length],
      ['log lines scanned / findings (user ids, names, phones, secrets)', `${logScan.lines} / ${findings}`],
    ])}\n`,
  );
  for (const example of logScan.examples) process.stdout.write(`  loyalty log finding: ${example}\n`);
  for (const problem of problems.slice(0, 10))
    process.stdout.write(`  loyalty: user ${maskUserId(problem.userId)}: ${problem.kind}: ${problem.detail}\n`);
  return problems.length === 0 && findings === 0;
}

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
    const mode = values.anonymous as AnonymousMode | undefined;
    const replay = `npm run chaos -- --seed ${seed}${mode ? ` --anonymous ${mode}` : ''}`;
    process.stdout.write(`Chaos run with seed ${seed} (replay: ${replay})…\n`);
    const unmet = await chaosRun(services, seed, Number(values.users), mode ?? 'detach', FULL_RUN_MINIMUM);
    if (mode === undefined) {
      const users = MERGE_REQUEST_RUN_USERS;
      process.stdout.write(
        `Merge-request run with seed ${seed} (replay: ${replay} --anonymous merge-request --users ${users})…\n`,
      );
      const minimum = { users, eventsSent: users * Number(values['min-events']), lambdaTimeouts: 0 };
      const mergeUnmet = await chaosRun(services, seed, users, 'merge-request', minimum, { timing: false });
      unmet.push(...mergeUnmet.map((requirement) => `merge-request run: ${requirement}`));
    }
    if (!(await loyaltyMix(seed, services.secrets)))
      unmet.push('loyalty mix: every linked friend with their tier menu, no stray menu, no answer twice, clean logs');
    process.stdout.write(unmet.length === 0 ? 'Every check passed.\n' : `FAILED: ${unmet.join('; ')}\n`);
    return unmet.length === 0 ? 0 : 1;
  } finally {
    await services.close();
    await aws.stop();
  }
}

/** One chaos run, its report and problems printed; the requirements it did not meet (timing ones judged unless told). */
async function chaosRun(
  services: ChaosServices,
  seed: number,
  users: number,
  anonymousCustomer: AnonymousMode,
  minimum: Parameters<typeof chaosChecks>[1],
  { timing = true } = {},
): Promise<string[]> {
  const report = await runChaos(services, {
    seed,
    users,
    eventsPerUser: { min: Number(values['min-events']), max: Number(values['max-events']) },
    fleet: FLEET,
    identity: { anonymousCustomer, registration: 'instore+line' },
  });
  process.stdout.write(`${formatChaosReport(report)}\n`);
  for (const example of report.logScan.examples) process.stdout.write(`  log finding: ${example}\n`);
  // A few of each channel and kind, so that a rare kind is not hidden behind a frequent one.
  const byChannel = new Map<string, ChaosReport['problems']>();
  for (const problem of report.problems) {
    const group = `${problem.channel}/${problem.kind}`;
    byChannel.set(group, [...(byChannel.get(group) ?? []), problem]);
  }
  for (const problems of byChannel.values())
    for (const problem of problems.slice(0, 8))
      process.stdout.write(`  ${problem.kind}: user ${problem.userId} (${problem.channel}): ${problem.detail}\n`);
  if (byChannel.size > 0)
    process.stdout.write(
      `  problems by channel and kind: ${[...byChannel].map(([group, problems]) => `${group} ${problems.length}`).join(', ')}\n`,
    );
  return chaosChecks(report, minimum)
    .filter((check) => !check.met && (timing || !check.timing))
    .map((check) => check.requirement);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
