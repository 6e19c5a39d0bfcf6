/**
 * `npm run demo`, then `npm run reconcile -- --stage local --repair` on each channel, against a running `npm start`:
 * the LINE stand-in's follower list follows the follow/unfollow events the demo delivered, so the drift check finds
 * nothing to change (before, LINE's list stayed empty and the repair opted out every demo follower).
 */
import type { LocalPipelineStatus } from '../../local/pipeline-admin-api';
import { LOCAL_CHANNELS } from '../../local/sample-events';
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

interface DriftReport {
  followers: number;
  tableRecords: number;
  counts: Record<string, number>;
  forgotten: number;
  repaired: number;
}

const reconcileJson = async (channel: string, repair: boolean): Promise<DriftReport> => {
  const args = ['--stage', 'local', '--channel', channel, '--json', ...(repair ? ['--repair'] : [])];
  const { code, stdout, stderr } = await operator('scripts/reconcile.ts', args);
  expect({ code, stderr }).toMatchObject({ code: 0 }); // stderr shown when it is not
  return JSON.parse(stdout) as DriftReport;
};

describe('npm run demo, then npm run reconcile -- --repair', () => {
  it('finds nothing to change on any channel: LINE lists exactly the friends the demo left', async () => {
    // Act: what `npm run demo` replays, channel by channel (events/ for default, events/tw/ for tw)
    for (const { id, samplesDir } of LOCAL_CHANNELS) {
      const replayed = await operator('scripts/replay.ts', [
        `events/${samplesDir}`,
        '--channel',
        id,
        '--url',
        status.endpoints.webhookUrl,
      ]);
      expect(replayed.code).toBe(0);
    }
    const reports = Object.fromEntries(
      await Promise.all(LOCAL_CHANNELS.map(async ({ id }) => [id, await reconcileJson(id, true)] as const)),
    );
    // Assess: the default channel keeps two friends (Ua1… followed again, Ud0… followed); tw's only user unfollowed
    expect(reports.default).toMatchObject({ followers: 2, repaired: 0, forgotten: 0 });
    expect(reports.tw).toMatchObject({ followers: 0, repaired: 0, forgotten: 0 });
    for (const report of Object.values(reports)) {
      expect(report.tableRecords).toBeGreaterThan(0);
      expect(Object.values(report.counts).every((count) => count === 0)).toBe(true);
    }
  }, 240_000);
});
