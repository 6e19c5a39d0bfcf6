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
    const unmet = checks().filter((check) => !check.met && !check.identity && !check.timing);
    const problems = report.problems.filter((problem) => problem.kind !== 'identity').slice(0, 10);
    expect({ unmet, problems, logExamples: report.logScan.examples }).toEqual({
      unmet: [],
      problems: [],
      logExamples: [],
    });
    expect(report.logScan.lines).toBeGreaterThan(report.figures.events); // the logs were really captured
  });

  // At 100 users the mix does not play every kind of transition (an unlink by customer mostly meets its link still
  // queued, and is answered 404); `npm run chaos` requires them all. Here the invariant itself must hold.
  it('plays the identity mix, and the identity invariant holds for every user and channel', () => {
    const unmet = checks().filter((check) => !check.met && check.identity && !check.coverage);
    const problems = report.problems.filter((problem) => problem.kind === 'identity').slice(0, 10);
    expect({ unmet, problems }).toEqual({ unmet: [], problems: [] });
  });
});
