/**
 * A stage parameter without a default (capillaryBaseUrl, capillaryLineAccountId) that is missing or empty stops
 * `sls package` (and so `sls deploy`) before anything is built, with one line per setting naming the fix.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { PackageFailedError, packageStack } from '../../ops/package-stack';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

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
