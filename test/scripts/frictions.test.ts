/**
 * The local tools name the fix: each case is a friction a new user met (issue: "The local tools name the fix"),
 * run as an operator's shell runs the script.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { AWS_CREDENTIALS_HINT, NO_PIPELINE_HINT } from '../../scripts/cli';
import { ROOT, run } from '../support/pipeline-process';

/** Every npm script's entry: scripts/*.ts, and the bench's. */
const SCRIPTS = [
  ...readdirSync(path.join(ROOT, 'scripts'))
    .filter((name) => name.endsWith('.ts') && !['cli.ts', 'stage-config.ts'].includes(name))
    .map((name) => `scripts/${name}`),
  'bench/run.ts',
];
const tsx = (args: string[], env: NodeJS.ProcessEnv = {}) => run('npx', ['tsx', ...args], '', env);
/** The lines a script printed on stderr, without the one line about an old Node. */
const mistakes = (stderr: string) =>
  stderr
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('Node v'));

describe('every script', () => {
  it.each(SCRIPTS)(
    '%s answers --help with its usage',
    async (script) => {
      const { code, stdout } = await tsx([script, '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^usage: npm (run|start)/);
    },
    60_000,
  );

  it.each([
    'scripts/backfill.ts',
    'scripts/reconcile.ts',
    'scripts/replay.ts',
    'scripts/doctor.ts',
    'scripts/state.ts',
    'bench/run.ts',
  ])(
    '%s names an unknown option in one line, then its usage (no ERR_PARSE_ARGS stack)',
    async (script) => {
      const { code, stderr } = await tsx([script, '--bogus']);
      expect(code).toBe(1);
      const [first, second] = mistakes(stderr);
      expect(first).toBe("Unknown option '--bogus'.");
      expect(second).toMatch(/^usage: /);
      expect(stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at /);
    },
    60_000,
  );
});

/** Scripts that reach the stage's AWS resources (and so build SDK clients) before anything else. */
const NO_PIPELINE = { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' };
const AWS_SCRIPTS: [string, string[]][] = [
  ['backfill.ts', ['--stage', 'local']],
  ['capillary-notifications.ts', ['--stage', 'local', '--subscribe']],
];

describe('a missing setup gets its fix', () => {
  it.each(AWS_SCRIPTS)(
    'no local pipeline: connection refused asks whether `npm start` runs (%s)',
    async (script, args) => {
      const { code, stderr } = await tsx([`scripts/${script}`, ...args], NO_PIPELINE);
      expect(code).toBe(1);
      expect(mistakes(stderr)).toEqual([expect.stringContaining('ECONNREFUSED'), NO_PIPELINE_HINT]);
    },
    60_000,
  );

  it('no AWS credentials: the SDK message, then how to give them', async () => {
    const { code, stderr } = await tsx(['scripts/backfill.ts', '--stage', 'prod', '--region', 'ap-northeast-1'], {
      HOME: mkdtempSync(path.join(tmpdir(), 'no-aws-')),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(code).toBe(1);
    expect(mistakes(stderr)).toEqual([expect.stringContaining('Could not load credentials'), AWS_CREDENTIALS_HINT]);
  }, 60_000);

  it.each(AWS_SCRIPTS)(
    "prints at most one line for the AWS SDK's Node warning, never its nine (%s)",
    async (script, args) => {
      const { stderr } = await tsx([`scripts/${script}`, ...args], NO_PIPELINE);
      expect(stderr).not.toContain('NodeVersionSupportWarning');
      const nodeLines = stderr.split('\n').filter((line) => line.startsWith('Node v'));
      expect(nodeLines.length).toBe(Number(/^v(\d+)/.exec(process.version)?.[1]) < 22 ? 1 : 0);
    },
    60_000,
  );
});
