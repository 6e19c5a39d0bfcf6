/**
 * The chaos run at a size that fits `npm test` (`npm run chaos` is the full one): hundreds of LINE
 * events with redeliveries, Capillary faults and worker crashes through the real bridge, and the identity mix
 * (links to other members and failing ones, link API ID tokens and unlinks, Capillary merges and PII deletions
 * with their notifications). Nothing may be lost, wrong, duplicated, stale, or leaked to the logs, and the
 * identity invariant holds for every user and channel. CHAOS_SEED replays a run.
 */
import { chaosChecks, formatChaosReport, runChaos, type ChaosReport } from '../../local/chaos/chaos-run';
import { startChaosServices, type ChaosServices } from '../../local/chaos/chaos-services';

const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);

describe(`chaos run, reduced size (seed ${seed})`, () => {
  let services: ChaosServices;
  beforeAll(async () => {
    services = await startChaosServices();
  });
  afterAll(() => services.close());

  let report: ChaosReport;
  beforeAll(async () => {
    report = await runChaos(services, {
      seed,
      users: 100,
      eventsPerUser: { min: 4, max: 8 },
      fleet: {
        instances: 4,
        functionTimeoutMs: 4000,
        claimTtlMs: 4500,
        visibilityTimeoutSeconds: 5,
        maxReceiveCount: 6,
        capillaryTimeoutMs: 300,
        webhookConcurrency: 4,
        drainDeadlineMs: 480_000,
      },
    });
    process.stdout.write(`${formatChaosReport(report)}\n`);
  }, 1_200_000);
  const checks = () => chaosChecks(report, { users: 100, eventsSent: 500, lambdaTimeouts: 0 });

  it('loses, duplicates and leaks nothing, and leaves every user as their newest event says', () => {
    const unmet = checks().filter((check) => !check.met && !check.identity);
    const problems = report.problems.filter((problem) => problem.kind !== 'identity').slice(0, 10);
    expect({ unmet, problems, logExamples: report.logScan.examples }).toEqual({
      unmet: [],
      problems: [],
      logExamples: [],
    });
    expect(report.logScan.lines).toBeGreaterThan(report.figures.events); // the logs were really captured
  });

  // Known to fail (issue 19 open), now on 0 to 2 users of 100 per run: a sibling channel the person did not follow at
  // link time is not recorded linked (docs/reliability.md#chaos-run-with-the-identity-mix); a seed that plays no
  // unlink by customer leaves the identity mix's coverage unmet. `failing` turns red the day the invariant holds.
  it.failing('plays the identity mix, and the identity invariant holds for every user and channel', () => {
    const unmet = checks().filter((check) => !check.met && check.identity);
    const problems = report.problems.filter((problem) => problem.kind === 'identity').slice(0, 10);
    expect({ unmet, problems }).toEqual({ unmet: [], problems: [] });
  });
});
