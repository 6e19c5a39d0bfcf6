/**
 * The stage settings are checked before osls resolves anything (ops/serverless-required-params.mjs): an unknown
 * `--param` name, a `--param` without a value, a value a setting does not accept, a URL that is not https, and a
 * required setting left empty each stop `sls package` (and so `sls deploy`) with one line naming the fix.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { readBackfillConfig } from '../../lib/config/backfill-config';
import { PackageFailedError, packageStack } from '../../ops/package-stack';
import { readServerlessYml, type Yaml } from '../../ops/serverless-resources';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const PLUGIN = path.join(PROJECT_ROOT, 'ops/serverless-required-params.mjs');

/** The lines osls prints under "Error:", up to the blank line that ends them. */
function errorLines(output: string): string[] {
  const lines = output.split('\n');
  const after = lines.slice(lines.indexOf('Error:') + 1);
  return after.slice(0, after.indexOf(''));
}

/** The output of a packaging that must fail. */
function refusal(run: () => unknown): PackageFailedError {
  try {
    run();
  } catch (error) {
    if (error instanceof PackageFailedError) return error;
    throw error;
  }
  throw new Error('sls package succeeded');
}

/**
 * Runs `expression` against the plugin module (ES module, as osls loads it: jest's CommonJS cannot import it) in a
 * child node, with `serverlessParams` (serverless.yml's own `params` unless given) in scope, and returns its JSON.
 */
function inPlugin<T>(expression: string, serverlessParams: Yaml = readServerlessYml().params as Yaml): T {
  const script = `import * as plugin from ${JSON.stringify(PLUGIN)};
const params = ${JSON.stringify(serverlessParams)};
process.stdout.write(JSON.stringify(${expression}));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as T;
}

const problemsWith = (cliParam: string[], stage = 'ci', params?: Yaml) =>
  inPlugin<string[]>(
    `plugin.settingProblems({ params, stage: ${JSON.stringify(stage)}, cliParam: ${JSON.stringify(cliParam)} }).problems`,
    params,
  );

describe('settingProblems', () => {
  it('finds nothing wrong with the stages serverless.yml declares', () => {
    for (const stage of ['dev', 'ci', 'local', 'prod']) expect(problemsWith([], stage)).toEqual([]);
  });

  it('names the closest setting for an unknown --param, and the list when none is close', () => {
    expect(problemsWith(['capillaryLineAccountID=2001914141242', 'colour=blue'])).toEqual([
      '--param capillaryLineAccountID names no setting: did you mean capillaryLineAccountId? (the settings: docs/deploy.md#stage-parameters)',
      '--param colour names no setting (the settings: docs/deploy.md#stage-parameters)',
    ]);
  });

  it('says why the batching window is no setting instead of guessing a name', () => {
    expect(problemsWith(['workerBatchWindowSeconds=1'])).toEqual([
      '--param workerBatchWindowSeconds is not a setting: the events queue is FIFO, and Lambda takes no batching window for a FIFO event source; batches fill from what waits in the queue (docs/capillary.md#live-bulk-registration)',
    ]);
  });

  it('names a misspelt setting under params.<stage> in serverless.yml as well', () => {
    const params = { default: { capillaryAuth: 'oauth' }, prod: { capilaryAuth: 'basic' } };
    expect(problemsWith([], 'prod', params)).toEqual([
      'params.prod.capilaryAuth in serverless.yml names no setting: did you mean capillaryAuth? (the settings: docs/deploy.md#stage-parameters)',
    ]);
  });

  it('refuses a --param without a value in one line, instead of every ${param:…} failing', () => {
    expect(problemsWith(['capillaryBaseUrl=', 'alarmEmail='])).toEqual([
      '--param capillaryBaseUrl= has no value: give one, e.g. --param capillaryBaseUrl=https://…',
      "--param alarmEmail= has no value (osls passes no empty --param): leave it out for the default, or set alarmEmail: '' under params.ci in serverless.yml",
    ]);
  });

  it('refuses values a setting does not take, naming the ones it does', () => {
    expect(
      problemsWith([
        'capillaryAuth=basc',
        'capillaryRegistrationMode=lineonly',
        'lineChannels=lists',
        'capillaryBulkCountsAs=records',
        'capillaryLinkMethod=addprofile',
        'capillarySubscribeOnRegister=yes',
        'backfillPageSize=5000',
      ]),
    ).toEqual([
      'lineChannels "lists" (--param lineChannels) must be one of single, list, path',
      'capillaryAuth "basc" (--param capillaryAuth) must be one of oauth, basic',
      'capillaryRegistrationMode "lineonly" (--param capillaryRegistrationMode) must be one of instore+line, line-only, on-link',
      'capillarySubscribeOnRegister "yes" (--param capillarySubscribeOnRegister) must be one of true, false',
      'backfillPageSize "5000" (--param backfillPageSize) must be a whole number from 1 to 1000',
      'capillaryBulkCountsAs "records" (--param capillaryBulkCountsAs) must be one of record, request',
      'capillaryLinkMethod "addprofile" (--param capillaryLinkMethod) must be one of add-profile, change-identifier',
    ]);
  });

  it('wants the Capillary and LINE API hosts as https origins (http only to the local stand-ins)', () => {
    expect(
      problemsWith([
        'capillaryBaseUrl=apac2.api.capillarytech.com',
        'lineApiBaseUrl=http://api.line.me',
        'linkPageUrl=https://brand.example/link?t={linkToken}',
      ]),
    ).toEqual([
      'lineApiBaseUrl "http://api.line.me" (--param lineApiBaseUrl) must start with https:// (http:// only for 127.0.0.1 or localhost)',
      'capillaryBaseUrl "apac2.api.capillarytech.com" (--param capillaryBaseUrl) must start with https://: https://apac2.api.capillarytech.com',
    ]);
    expect(problemsWith(['capillaryBaseUrl=https://apac2.api.capillarytech.com/v2/'])).toEqual([
      'capillaryBaseUrl "https://apac2.api.capillarytech.com/v2/" (--param capillaryBaseUrl) must be the origin only, without a path or trailing slash: https://apac2.api.capillarytech.com',
    ]);
  });

  it('keeps the worker timeout, the claim and the visibility timeout in order', () => {
    expect(problemsWith(['claimTtlSeconds=600'])).toEqual([
      'queueVisibilityTimeoutSeconds 360 (params.default.queueVisibilityTimeoutSeconds) must be more than claimTtlSeconds (600)',
    ]);
    expect(problemsWith(['workerTimeoutSeconds=150'])).toEqual([
      'claimTtlSeconds 120 (params.default.claimTtlSeconds) must be more than workerTimeoutSeconds (150)',
      'queueVisibilityTimeoutSeconds 360 (params.default.queueVisibilityTimeoutSeconds) must be at least 6 × workerTimeoutSeconds (150)',
    ]);
  });

  it('allows exactly the values the configuration readers accept', async () => {
    const allowed = inPlugin<Record<string, string[]>>(
      'Object.fromEntries(Object.entries(plugin.SETTING_RULES).filter(([, rule]) => rule.allowed).map(([name, rule]) => [name, rule.allowed]))',
    );
    const variableOf: Record<string, string> = {
      capillaryRegistrationMode: 'CAPILLARY_REGISTRATION_MODE',
      capillarySubscribeOnRegister: 'CAPILLARY_SUBSCRIBE_ON_REGISTER',
      capillaryRegisterProfilesTogether: 'CAPILLARY_REGISTER_PROFILES_TOGETHER',
      capillaryBulkCountsAs: 'CAPILLARY_BULK_COUNTS_AS',
      capillaryLinkMethod: 'CAPILLARY_LINK_METHOD',
      capillaryLinkAnonymous: 'CAPILLARY_LINK_ANONYMOUS',
      capillaryMergeAutoApprove: 'CAPILLARY_MERGE_AUTO_APPROVE',
    };
    const backfillEnv = {
      TABLE_NAME: 'users',
      LINE_CHANNEL_ACCESS_TOKEN: 'token',
      CAPILLARY_BASE_URL: 'https://apac2.api.capillarytech.com',
      CAPILLARY_LINE_ACCOUNT_ID: '2001914141242',
      CAPILLARY_CLIENT_KEY: 'key',
      CAPILLARY_CLIENT_SECRET: 'secret',
      QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/events.fifo',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/events-dlq.fifo',
      BACKFILL_QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/backfill',
    };
    const noSsm = async () => undefined;
    /** The values the reader names when it refuses one ("NAME must be one of a, b, got …"). */
    const acceptedByReader = async (variable: string) => {
      const refusal = await readBackfillConfig({ ...backfillEnv, [variable]: 'none-of-these' }, noSsm).catch(
        (error: Error) => error.message,
      );
      const listed = new RegExp(`${variable} must be one of ([^"]+), got "none-of-these"`).exec(String(refusal));
      return listed?.[1]?.split(', ').sort();
    };
    for (const [setting, variable] of Object.entries(variableOf))
      expect([setting, await acceptedByReader(variable)]).toEqual([setting, [...(allowed[setting] ?? [])].sort()]);
    expect(Object.keys(allowed)).toEqual(expect.arrayContaining(Object.keys(variableOf)));
  });
});

describe('sls package', () => {
  it('names each missing setting once, with the --param and params.<stage> fixes, for a stage that sets none', () => {
    const failed = refusal(() => packageStack({ stage: 'prod' }));

    expect(failed.status).toBe(1);
    expect(errorLines(failed.output)).toEqual([
      'capillaryBaseUrl is not set for stage prod: pass --param capillaryBaseUrl=https://… or add it under params.prod in serverless.yml',
      'capillaryLineAccountId is not set for stage prod: pass --param capillaryLineAccountId=… or add it under params.prod in serverless.yml',
    ]);
    expect(failed.output).not.toContain('Cannot resolve variable');
  });

  it('refuses a blank value as well', () => {
    const failed = refusal(() =>
      packageStack({
        stage: 'prod',
        params: { capillaryBaseUrl: 'https://apac2.api.capillarytech.com', capillaryLineAccountId: ' ' },
      }),
    );

    expect(failed.status).toBe(1);
    expect(errorLines(failed.output)).toEqual([
      'capillaryLineAccountId is not set for stage prod: pass --param capillaryLineAccountId=… or add it under params.prod in serverless.yml',
    ]);
  });

  it('stops at a bad name, an empty --param and a bad value, one line each and nothing from osls', () => {
    const failed = refusal(() =>
      packageStack({
        stage: 'prod',
        params: {
          capillaryBaseUrl: '',
          capillaryLineAccountID: '2001914141242',
          capillaryAuth: 'basc',
        },
      }),
    );

    expect(failed.status).toBe(1);
    expect(errorLines(failed.output)).toEqual([
      '--param capillaryBaseUrl= has no value: give one, e.g. --param capillaryBaseUrl=https://…',
      '--param capillaryLineAccountID names no setting: did you mean capillaryLineAccountId? (the settings: docs/deploy.md#stage-parameters)',
      'capillaryAuth "basc" (--param capillaryAuth) must be one of oauth, basic',
    ]);
    expect(failed.output).not.toMatch(/Cannot resolve|Value not found/);
  });

  it('`npm run package` (stage dev) refuses while dev has no capillaryLineAccountId', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sls-required-'));
    try {
      const result = spawnSync('npm', ['run', 'package', '--', '--package', dir], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      });

      expect(result.status).toBe(1);
      expect(errorLines(result.stdout)).toEqual([
        'capillaryLineAccountId is not set for stage dev: pass --param capillaryLineAccountId=… or add it under params.dev in serverless.yml',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
