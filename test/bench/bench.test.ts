/**
 * `npm run bench` at its tiny size, as a child process (the bench starts its own dynalite and packages
 * with `sls package`). Only that it runs and writes every figure; speed targets are the bench's report,
 * never a test verdict on a shared, noisy machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { PROFILES } from '../../bench/profiles';
import type { BenchResults } from '../../bench/run-bench';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

const expectNonNegative = (value: unknown) => {
  expect(typeof value).toBe('number');
  expect(Number.isFinite(value)).toBe(true);
  expect(value as number).toBeGreaterThanOrEqual(0);
};

let results: BenchResults;
let stderr: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bench-test-'));
  const out = path.join(dir, 'results.json');
  // Not jest's AWS endpoints: the bench brings its own servers and packages offline.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  ({ stderr } = await promisify(execFile)('npx', ['tsx', 'bench/run.ts', '--tiny', '--out', out], {
    cwd: PROJECT_ROOT,
    env,
    timeout: 480_000,
  }));
  results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
}, 540_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("prints at most one line for the AWS SDK's Node warning, never its nine", () => {
  expect(stderr).not.toContain('NodeVersionSupportWarning');
  const nodeLines = stderr.split('\n').filter((line) => line.startsWith('Node v'));
  expect(nodeLines.length).toBe(Number(/^v(\d+)/.exec(process.version)?.[1]) < 22 ? 1 : 0);
});

it('says when, where and how big the run was', () => {
  expect(Number.isNaN(Date.parse(results.date))).toBe(false);
  expect(results.node).toMatch(/^v\d+\./);
  expect(results.cores).toBeGreaterThanOrEqual(1);
  expect(results.profile).toBe('tiny');
});

it('has the webhook CPU ratio per body size, and sends ⌈events / 10⌉ SendMessageBatch calls per request', () => {
  for (const events of ['1', '10', '100']) {
    expect(results.webhook.cpuRatio[events]).toBeGreaterThan(0);
    // Its own work is part of the whole handler's.
    const { ownWorkMicros, handlerMicros } = results.webhook.cpu[events] ?? { ownWorkMicros: NaN, handlerMicros: NaN };
    expect(ownWorkMicros).toBeGreaterThan(0);
    expect(ownWorkMicros).toBeLessThan(handlerMicros);
  }
  expect(results.webhook.sqsCallsPerRequest).toEqual({ 0: 0, 1: 1, 10: 1, 11: 2, 100: 10 });
});

it('has the webhook CPU with 1 and with 50 channels configured, as a ratio to 1 channel', () => {
  expect(Object.keys(results.webhook.cpuRatioByChannels)).toEqual(['1', '50']);
  expect(results.webhook.cpuRatioByChannels['1']).toBe(1);
  expect(results.webhook.cpuRatioByChannels['50']).toBeGreaterThan(0);
  for (const count of ['1', '50']) expect(results.webhook.cpuByChannels[count]).toBeGreaterThan(0);
});

it('has bundle bytes and a cold start ratio per function', () => {
  for (const fn of ['webhook', 'worker']) {
    expect(results.coldStart.bundleBytes[fn]).toBeGreaterThan(10_000);
    expect(results.coldStart.ratio[fn]).toBeGreaterThan(0);
  }
});

it('measures calls per event for every case: a redelivered or overtaken event costs no Capillary or LINE call', () => {
  for (const mode of [
    'instore+line',
    'line-only',
    'instore+line, profiles together',
    'instore+line, separate calls',
  ] as const) {
    const calls = results.worker.callsPerEvent[mode];
    for (const kind of ['newFollower', 'returningFollower', 'unfollow', 'duplicate', 'stale'] as const) {
      for (const service of ['capillary', 'line', 'dynamoWrites', 'dynamoReads'] as const)
        expectNonNegative(calls[kind][service]);
      expect(calls[kind].dynamoWrites).toBeLessThanOrEqual(2);
    }
    for (const kind of ['duplicate', 'stale'] as const)
      expect({ ...calls[kind], dynamoWrites: 0, dynamoReads: 0 }).toEqual({
        capillary: 0,
        line: 0,
        dynamoWrites: 0,
        dynamoReads: 0,
      });
    expect(calls.unfollow.capillary).toBe(1);
    expect(calls.returningFollower.capillary).toBe(1);
  }
  // A new follower: the opt-in travels inside the add; both profiles in one add where configured.
  expect(results.worker.callsPerEvent['instore+line'].newFollower.capillary).toBe(2);
  expect(results.worker.callsPerEvent['line-only'].newFollower.capillary).toBe(1);
  expect(results.worker.callsPerEvent['instore+line, profiles together'].newFollower.capillary).toBe(1);
  // The baseline of before the folding: INSTORE add, LINE add, then the opt-in.
  expect(results.worker.callsPerEvent['instore+line, separate calls'].newFollower.capillary).toBe(3);
});

it('has the rate utilisation, over-limit count and limiter writes per call per configured limit', () => {
  for (const limit of results.worker.throughput.settings.rateLimitsPerMinute) {
    const utilisation = Object.values(results.worker.rateUtilisation[limit] ?? {});
    expect(utilisation.length).toBeGreaterThan(0);
    for (const value of utilisation) expect(value).toBeGreaterThan(0);
    // Capillary never answers 429: the worker stays under the limit at every size.
    for (const count of Object.values(results.worker.overLimit[limit] ?? {})) expect(count).toBe(0);
    const limiterWrites = Object.values(results.worker.limiterWritesPerCapillaryCall[limit] ?? {});
    expect(limiterWrites).toHaveLength(utilisation.length);
    for (const value of limiterWrites) expect(value).toBeGreaterThan(0);
  }
});

it('has the new followers per hour per 100 calls/min of every registration variant', () => {
  expect(Object.keys(results.worker.newFollowersPerHourPer100Rpm).sort()).toEqual([
    'instore+line',
    'instore+line, profiles together',
    'instore+line, separate calls',
    'line-only',
  ]);
  for (const value of Object.values(results.worker.newFollowersPerHourPer100Rpm)) expect(value).toBeGreaterThan(0);
});

it('has a burst of new friends on the single-call path and in bulk: one call for every batch of new followers', () => {
  const { burst } = results.worker;
  const { single, bulkRequest, bulkRecord } = burst.runs;
  for (const run of [single, bulkRequest, bulkRecord]) {
    expect(run.events).toBeGreaterThan(0);
    expect(run.failedEvents).toBe(0);
  }
  expect(single.capillaryCalls).toBe(single.events * 2);
  // Batches of 10 new followers: one bulk call each, whichever way the call counts (a retried call may add one).
  for (const run of [bulkRequest, bulkRecord]) {
    expect(run.capillaryCalls).toBeGreaterThanOrEqual(Math.ceil(run.events / 10));
    expect(run.capillaryCalls).toBeLessThan(run.events / 5);
  }
  expect(burst.callsPerNewFollower).toBe(Number((bulkRequest.capillaryCalls / bulkRequest.events).toFixed(3)));
  expect(burst.loneFollowP99Ms).toBeGreaterThan(0);
  expect(burst.loneFollowP99MsToday).toBeGreaterThan(0);
});

it('has followers arriving below the limit: every one synced, none over it, and the worker billed only while it works', () => {
  const run = results.worker.belowLimit;
  expect(run.events).toBeGreaterThan(0);
  expect(run.failedEvents).toBe(0);
  expect(run.overLimit).toBe(0);
  expect(run.capillaryCalls).toBe(run.events * results.worker.callsPerEvent[run.variant].newFollower.capillary);
  expect(run.workerSecondsPerEvent).toBeGreaterThan(0);
  expect(results.costPer1M.belowLimit.cost.total[run.rateLimitPerMinute]).toBeGreaterThan(0);
});

it('has the cost per million follow events, as a breakdown and a total', () => {
  for (const limit of results.worker.throughput.settings.rateLimitsPerMinute) {
    expect(results.costPer1M.total[limit]).toBeGreaterThan(0);
    for (const line of Object.values(results.costPer1M.breakdown)) expectNonNegative(line[limit]);
  }
});

it('has the cost with the live bulk registration, per way a bulk call counts, and checks it against its target', () => {
  const { request, record } = results.costPer1M.totalWithBulk;
  expect(request).toBeGreaterThan(0);
  expect(record).toBeGreaterThan(0);
  expect(results.targets.map((target) => target.what)).toContain(
    `cost per 1M follows at ${results.worker.burst.rateLimitPerMinute} calls/min, bulk registration (request counting), USD`,
  );
});

it('has the backfill figures: one Capillary call per 10 followers, none on a rerun, a rate per limit and counting', () => {
  expect(results.backfill.capillaryCallsPerFollower).toBe(0.1);
  expect(results.backfill.rerunCapillaryCalls).toBe(0);
  for (const limit of ['100', '1000']) {
    for (const countsAs of ['request', 'record'] as const)
      expect(results.backfill.followersPerHour[limit]?.[countsAs]).toBeGreaterThan(0);
  }
  expect(results.backfill.hoursFor1MAt100Rpm.record).toBeGreaterThan(results.backfill.hoursFor1MAt100Rpm.request);
  expectNonNegative(results.backfill.liveEventDelayP99Ms);
});

it('has bursts of postback taps while new followers arrive, rounds pooled: every tap posted once, none over limits', () => {
  const { engagement } = results.worker;
  const { withoutBurst, withBurst } = engagement.runs;
  expect(withoutBurst.followers).toBeGreaterThan(0);
  expect(withoutBurst.followersSynced).toBe(withoutBurst.followers);
  expect(withoutBurst.tapsPosted).toBe(0);
  expect(withBurst.followers).toBe(withoutBurst.followers);
  // Every tap arrived: posted or still queued at the stop. A call beyond one per tap is a retry (a timeout on a
  // loaded machine), so the figure is a ratio, checked against its target by the bench, not here.
  expect(withBurst.tapsPosted).toBeGreaterThan(0);
  expect(engagement.rounds).toBe(PROFILES.tiny.engagement.rounds);
  expect(withBurst.tapsPosted + withBurst.tapsQueued).toBe(engagement.taps * engagement.rounds);
  expect(withBurst.ingestCalls).toBeGreaterThanOrEqual(withBurst.tapsPosted);
  expect(withBurst.tapsPostedTwice).toBeLessThanOrEqual(withBurst.ingestCalls - withBurst.tapsPosted);
  expect(engagement.ingestCallsPerEvent).toBe(Number((withBurst.ingestCalls / withBurst.tapsPosted).toFixed(3)));
  for (const run of [withoutBurst, withBurst]) {
    expect(run.failedEvents).toBe(0);
    expect(run.overLimit).toEqual({ capillary: 0, ingest: 0 });
    expect(run.followerDelayP99Ms).toBeGreaterThan(0);
  }
  expect(engagement.overLimit).toBe(0);
  expect(engagement.followerDelayP99Ratio).toBe(
    Number((withBurst.followerDelayP99Ms / withoutBurst.followerDelayP99Ms).toFixed(2)),
  );
  expect(engagement.ratioIsLowerBound).toBe(withBurst.followersUnsynced > 0);
  expect(results.targets.map((target) => target.what)).toContain(
    'engagement burst: follower delay p99, ratio to no burst',
  );
});

it('has "my points" timed from the webhook request and from the worker over the same answers, each the member card', () => {
  const { pointsAnswerMs } = results.loyalty;
  const answers = PROFILES.tiny.loyalty.pointsAnswers;
  expect(pointsAnswerMs.samples).toBe(answers);
  expect(pointsAnswerMs.memberCards).toBe(answers);
  for (const { p50, p99 } of [pointsAnswerMs.webhookToReply, pointsAnswerMs.workerToReply]) {
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50);
  }
  // The webhook's and the queue's time come on top of the worker's, answer by answer.
  expect(pointsAnswerMs.webhookToReply.p50).toBeGreaterThan(pointsAnswerMs.workerToReply.p50);
  expect(results.targets.map((target) => target.what)).toEqual(
    expect.arrayContaining([
      'loyalty: "my points" p99 ms (webhook → reply call)',
      'loyalty: "my points" p99 ms (worker → reply call)',
    ]),
  );
});
