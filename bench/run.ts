/**
 * npm run bench [-- --tiny] [-- --out FILE] [-- --only burst|loyalty]
 *
 * Measures the webhook against its physical floor and the worker against Capillary's rate limit (see
 * run-bench.ts and docs/performance.md), prints one table per figure and writes the results as
 * JSON (bench/results.json unless --out). `--tiny` runs every figure at a token size, only to show it runs.
 * `--only burst` runs figure 5c alone and updates its part of the results file (worker.burst, its table and targets);
 * `--only loyalty` runs figure 8 (loyalty in LINE) alone and puts it in the results file (loyalty, its table, targets).
 */
import '../local/quiet-telemetry';

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseCli } from '../local/cli-args';
import { quietOldNodeWarning } from '../local/node-support';
import { PROFILES } from './profiles';
import { runBench, runBurstOnly, runLoyaltyOnly, type BenchResults } from './run-bench';
import { targetsTable } from './targets';

const USAGE = 'usage: npm run bench [-- --tiny] [-- --out FILE] [-- --only burst]';

async function main(): Promise<void> {
  quietOldNodeWarning();
  const { values } = parseCli(USAGE, {
    tiny: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(__dirname, 'results.json') },
    only: { type: 'string' },
  });
  const profile = PROFILES[values.tiny ? 'tiny' : 'full'];
  if (values.only !== undefined) {
    const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
    if (values.only === 'loyalty') return updateLoyalty(values.out, await runLoyaltyOnly(profile, progress));
    if (values.only !== 'burst') throw new Error(`--only takes "burst" or "loyalty", got "${values.only}"`);
    return updateBurst(values.out, await runBurstOnly(profile, progress));
  }
  const results = await runBench(profile, (line) => process.stderr.write(`bench: ${line}\n`));
  process.stdout.write(
    `Bench (${results.profile}) on ${results.date}: node ${results.node}, ${results.cores} cores (${results.cpuModel}), ${results.durationSeconds} s\n\n`,
  );
  process.stdout.write(`${results.tables.join('\n')}\n`);
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${values.out}\n`);
}

/** Puts figure 5c's part into an existing results file (its figures, table and targets), the rest untouched. */
function updateBurst(out: string, { burst, table, targets }: Awaited<ReturnType<typeof runBurstOnly>>): void {
  process.stdout.write(`${table}\n`);
  if (!existsSync(out)) throw new Error(`${out} does not exist: run the whole bench first`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  const burstTargetNames = new Set(targets.map((target) => target.what));
  results.worker.burst = burst;
  results.targets = [...results.targets.filter((target) => !burstTargetNames.has(target.what)), ...targets];
  const otherTables = results.tables.filter((text) => !text.includes('Figure 5c'));
  const after = otherTables.findIndex((text) => text.includes('Figure 5b')) + 1;
  results.tables = [...otherTables.slice(0, after), table, ...otherTables.slice(after)].map((text) =>
    text.startsWith('Targets') || text.includes('\nTargets') ? targetsTable(results.targets) : text,
  );
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results (worker.burst): ${out}\n`);
}

/** Puts figure 8 into an existing results file (its figures, table and targets), the rest untouched. */
function updateLoyalty(out: string, { loyalty, table, targets }: Awaited<ReturnType<typeof runLoyaltyOnly>>): void {
  process.stdout.write(`${table}\n`);
  if (!existsSync(out)) throw new Error(`${out} does not exist: run the whole bench first`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  const names = new Set(targets.map((target) => target.what));
  results.loyalty = loyalty;
  results.targets = [...results.targets.filter((target) => !names.has(target.what)), ...targets];
  const tables = results.tables.filter((text) => !text.includes('Figure 8'));
  const targetsAt = tables.findIndex((text) => text.startsWith('Targets') || text.includes('\nTargets'));
  const at = targetsAt < 0 ? tables.length : targetsAt;
  results.tables = [...tables.slice(0, at), table, ...tables.slice(at)].map((text) =>
    text.startsWith('Targets') || text.includes('\nTargets') ? targetsTable(results.targets) : text,
  );
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results (loyalty): ${out}\n`);
}

main().then(
  // Keep-alive sockets of the stand-ins' clients would otherwise hold the process open for a while.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
