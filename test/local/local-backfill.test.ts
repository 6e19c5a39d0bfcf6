/**
 * `npm run backfill -- --stage local` and `npm run reconcile -- --stage local` against a running `npm start`,
 * as an operator runs them: the job runs in the local pipeline's backfill function, fed by its queue.
 */
import type { LocalPipelineStatus } from '../../local/pipeline-admin-api';
import { runAsOperator, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process';

let pipeline: PipelineProcess;
let status: LocalPipelineStatus;

const operator = (script: string, args: string[]) => runAsOperator(status, script, args);

beforeAll(async () => {
  pipeline = await startPipelineProcess(90_000);
  ({ status } = pipeline);
}, 120_000);

afterAll(() => {
  process.kill(-(pipeline.process.pid as number), 'SIGKILL');
});

it("backfills the stand-in's followers through the local backfill function, then does nothing new on a second run", async () => {
  // Prepare
  const seeded = await fetch(`${status.endpoints.line.url}/__admin/followers`, {
    method: 'POST',
    body: JSON.stringify({ count: 25, seed: 'local-backfill' }),
  });
  expect(await seeded.json()).toEqual({ followers: 25, added: 25 });
  // Act
  const first = await operator('scripts/backfill.ts', ['--stage', 'local', '--interval', '0.2']);
  const second = await operator('scripts/backfill.ts', ['--stage', 'local', '--interval', '0.2']);
  const statusOf = await operator('scripts/backfill.ts', ['--stage', 'local', '--status']);
  // Assess
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/Backfill job \S+ started for channel "default" on stage local/);
  expect(first.stdout).toMatch(
    /\[completed\] · pages 1 · ids seen 25 of ~25 · already known 0 · registered 25 · opted in 25 · handed to the pipeline 0 · failed 0 · Capillary calls 3/,
  );
  expect(second.stdout).toMatch(
    /\[completed\] · pages 1 · ids seen 25 of ~25 · already known 25 · registered 0 · opted in 0 · handed to the pipeline 0 · failed 0 · Capillary calls 0/,
  );
  expect(statusOf.stdout).toMatch(/completed after/);
}, 120_000);

it('reconciles: a follower added after the backfill is an unknown follower, repaired through the pipeline', async () => {
  await fetch(`${status.endpoints.line.url}/__admin/followers`, {
    method: 'POST',
    body: JSON.stringify({ count: 1, seed: 'late' }),
  });
  // Act
  const found = await operator('scripts/reconcile.ts', ['--stage', 'local', '--json']);
  const repaired = await operator('scripts/reconcile.ts', ['--stage', 'local', '--repair']);
  // Assess
  expect(found.code).toBe(0);
  expect(JSON.parse(found.stdout)).toMatchObject({
    followers: 26,
    counts: { 'unknown-follower': 1, 'missed-follow': 0, 'missed-unfollow': 0, 'capillary-differs': 0 },
  });
  expect(repaired.stdout).toContain('Queued 1 repair event(s) into the ordered pipeline');
}, 120_000);

it('names the cause and the alternative for an account that is not Verified/Premium', async () => {
  await fetch(`${status.endpoints.line.url}/__admin/config`, {
    method: 'POST',
    body: JSON.stringify({ verified: false }),
  });
  // Act
  const run = await operator('scripts/backfill.ts', ['--stage', 'local', '--interval', '0.2']);
  // Assess
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/failed after/);
  expect(run.stdout).toMatch(/neither Verified nor Premium.*insight check/s);
}, 120_000);
