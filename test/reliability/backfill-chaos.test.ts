/**
 * The backfill chaos run at a size that fits `npm test` (`npm run chaos -- --backfill` is the full one, ≥ 5,000
 * followers): live events for the same users, Capillary faults, cut-short and killed job invocations, live
 * workers dying before their ack. Every user must end as LINE's truth says: no duplicate, nobody lost.
 * CHAOS_SEED replays a run.
 */
import { runBackfillChaos } from '../../local/chaos/backfill-chaos';

const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);

it(`backfills under live events, faults and crashes to LINE's truth: no duplicate, nobody lost (seed ${seed})`, async () => {
  // Act
  const report = await runBackfillChaos(
    { seed, followers: 400, liveUsers: 60, eventsPerLiveUser: 3, rejectedForGood: 3 },
    90_000,
  );
  // Assess
  process.stdout.write(`${JSON.stringify(report.figures)}\n`);
  expect({
    problems: report.problems.slice(0, 10),
    logFindings: report.logScan.findings,
    logExamples: report.logScan.examples,
  }).toEqual({ problems: [], logFindings: {}, logExamples: [] });
  expect(report.logScan.lines).toBeGreaterThan(report.figures.liveEventsSent); // the logs were really captured
  // A follower rejected for good who unfollowed before the job reached them is never sent: at least one is.
  expect(report.figures.deadLettered).toBeGreaterThanOrEqual(1);
  expect(report.figures.jobInterruptions).toBeGreaterThan(0);
  expect(report.figures.liveEventsDuringBackfill).toBeGreaterThan(40);
  expect(report.figures.faultsInjected).toBeGreaterThan(0);
}, 300_000);
