/**
 * The operator commands on `--stage local` against a running `npm start`: doctor (every check passing, then failing
 * with its fix), channels refused or found as the pipeline serves them, replay's channel hints, npm run state, and
 * Ctrl-C during the demo's replay.
 */
import { spawn } from 'node:child_process';

import type { LocalPipelineStatus } from '../../local/pipeline-admin-api';
import { LOCAL_CHANNELS } from '../../local/sample-events';
import { expectDocSample, onDefaultPorts } from '../support/doc-samples';
import {
  eventually,
  ROOT,
  run,
  runAsOperator,
  startPipelineProcess,
  type PipelineProcess,
} from '../support/pipeline-process';

let pipeline: PipelineProcess;
let status: LocalPipelineStatus;

const operator = (script: string, args: string[]) => runAsOperator(status, script, args);
const admin = (url: string, route: string, body: unknown) =>
  fetch(`${url}/__admin/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  pipeline = await startPipelineProcess(90_000);
  ({ status } = pipeline);
}, 120_000);

afterAll(() => {
  process.kill(-(pipeline.process.pid as number), 'SIGKILL');
});

describe('npm run doctor -- --stage local', () => {
  it('passes every check against the stand-ins (the rate limit is unknown: the stand-in reports none)', async () => {
    const { code, stdout } = await operator('scripts/doctor.ts', [
      '--stage',
      'local',
      '--url',
      status.endpoints.webhookUrl,
      '--test-webhook',
    ]);
    expect(stdout).not.toContain('✘');
    expect(stdout).toMatch(/✔ LINE tw +webhook test: LINE called the webhook: HTTP 200/);
    expect(stdout).toMatch(/^\d+ passed, 0 failed, 1 unknown\.$/m);
    expect(code).toBe(0);
    expectDocSample('docs/local.md', 'npm run doctor -- --stage local --test-webhook', onDefaultPorts(stdout, status));
  }, 90_000);

  it('fails what the stand-ins were told to break, each ✘ followed by its fix, with exit status 1', async () => {
    const tw = LOCAL_CHANNELS.find(({ id }) => id === 'tw');
    await admin(status.endpoints.line.url, 'channels', {
      channelAccessToken: tw?.channelAccessToken,
      webhookActive: false,
    });
    await admin(status.endpoints.capillary.url, 'faults', {
      status: 400,
      code: 8011,
      pathPrefix: '/v2/customers/lookup',
      times: 1,
    });
    const { code, stdout } = await operator('scripts/doctor.ts', [
      '--stage',
      'local',
      '--url',
      status.endpoints.webhookUrl,
    ]);
    await fetch(`${status.endpoints.adminUrl}reset`, { method: 'POST' });
    const lines = stdout.split('\n');
    const failed = lines.flatMap((line, index) => (line.startsWith('✘') ? [[line, lines[index + 1]]] : []));
    expect(failed).toEqual([
      [
        expect.stringMatching(/^✘ LINE tw +webhook endpoint: .* "Use webhook" is off$/),
        expect.stringMatching(/→ turn on "Use webhook"/),
      ],
      [
        expect.stringMatching(/^✘ Capillary default +account of channel default/),
        expect.stringMatching(/→ set capillaryLineAccountId of channel default/),
      ],
    ]);
    expect(code).toBe(1);
  }, 90_000);

  it('refuses a channel the pipeline does not serve, listing those it does', async () => {
    const { code, stderr } = await operator('scripts/doctor.ts', [
      '--stage',
      'local',
      '--url',
      status.endpoints.webhookUrl,
      '--channel',
      'th',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('No channel "th" on this stage; its channels: default, tw.');
  }, 60_000);
});

describe('channels on the local stage', () => {
  it('backfill refuses an unknown channel before a job starts, listing the channels', async () => {
    const refused = await operator('scripts/backfill.ts', ['--stage', 'local', '--channel', 'th']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'No channel "th" on this stage; its channels: default, tw. Pass one of them with --channel.',
    );
    expect(refused.stdout).not.toContain('started');
  }, 60_000);

  it('reconcile reads the channels the pipeline serves: tw is one', async () => {
    const { code, stdout, stderr } = await operator('scripts/reconcile.ts', ['--stage', 'local', '--channel', 'tw']);
    expect(stderr).not.toContain('not configured');
    expect(stdout).toMatch(/Drift check \S+ on stage local/);
    expect(code).toBe(0);
  }, 60_000);

  it("replay suggests --channel when the bodies are another channel's, and lists the channels on a 404", async () => {
    const wrongChannel = await operator('scripts/replay.ts', ['events/tw/', '--url', status.endpoints.webhookUrl]);
    const noChannel = await operator('scripts/replay.ts', [
      'events/tw/',
      '--url',
      status.endpoints.webhookUrl,
      '--channel',
      'th',
    ]);
    expect(wrongChannel.stderr).toContain(
      "01-follow: HTTP 400 (its destination is channel tw's bot: add --channel tw)",
    );
    expect(noChannel.stderr).toContain(
      '01-follow: HTTP 404 (no such channel: the pipeline serves default, tw; pick one with --channel <id>)',
    );
  }, 60_000);

  it('backfill --status shows why the backfill function fails while the job stays [running]', async () => {
    await admin(status.endpoints.line.url, 'faults', { status: 500, pathPrefix: '/v2/bot/followers', times: 500 });
    const url = ['--url', status.endpoints.webhookUrl];
    // The job follows until it ends, which it does not while LINE fails: stop following after a while.
    const { sqs, dynamodb, capillary, line } = status.endpoints;
    const following = await run(
      'timeout',
      ['30', 'npx', 'tsx', 'scripts/backfill.ts', '--stage', 'local', '--channel', 'tw', '--interval', '0.5', ...url],
      '',
      {
        AWS_ENDPOINT_URL_SQS: sqs,
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
        CAPILLARY_BASE_URL: capillary.url,
        LINE_API_BASE_URL: line.url,
      },
    );
    const shown = await operator('scripts/backfill.ts', ['--stage', 'local', '--channel', 'tw', '--status', ...url]);
    await operator('scripts/backfill.ts', ['--stage', 'local', '--channel', 'tw', '--cancel', ...url]);
    await fetch(`${status.endpoints.line.url}/__admin/faults`, { method: 'DELETE' });
    const failure =
      /The backfill function failed at \S+ \(SQS retries it\): LineApiError: LINE followers\/ids failed: HTTP 500/;
    expect(following.stdout).toMatch(failure);
    expect(shown.stdout).toMatch(/\[running\]/);
    expect(shown.stdout).toMatch(failure);
  }, 90_000);

  it('npm run state lists every user record with its Capillary customer', async () => {
    await operator('scripts/replay.ts', ['events/02-follow.json', '--url', status.endpoints.webhookUrl, '--fresh']);
    const { code, stdout } = await operator('scripts/state.ts', ['--url', status.endpoints.webhookUrl]);
    expect(code).toBe(0);
    expectDocSample('docs/local.md', 'npm run state', stdout);
    expect(stdout).toMatch(/^CHANNEL +USER +CUSTOMER +SUBSCRIPTION +LINK +CAPILLARY$/m);
    expect(stdout).toMatch(
      /^default +u_cc443f847009 \(Ua1b2c3d4…\) +5\d{8} +OPTIN +- +customer 5\d{8} \(INSTORE\+LINE\), LINE default: BULK OPTIN, TRANS OPTIN$/m,
    );
  }, 60_000);
});

it("Ctrl-C during the demo's replay ends with the normal stop line, not `TypeError: fetch failed`", async () => {
  const ports = ['webhook', 'sqs', 'dynamodb', 'capillary', 'line', 'brand'].flatMap((name) => [`--${name}-port`, '0']);
  // As a terminal runs it: `npm run demo` in its own process group, Ctrl-C to the whole group.
  const demo = spawn('npm', ['run', '--silent', 'demo', '--', ...ports], { cwd: ROOT, detached: true });
  let output = '';
  demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close': every process of the tree that holds its output has ended, not only npx.
  const closed = new Promise((resolve) => demo.on('close', resolve));
  await eventually(() => (output.includes('Replaying events/') ? true : undefined), 'the replay to start', 90_000);
  process.kill(-(demo.pid as number), 'SIGINT');
  await closed;
  expect(output).toContain('Local pipeline stopped.');
  expect(output).not.toMatch(/fetch failed|TypeError/);
}, 120_000);
