/**
 * npm run bench [-- --tiny] [-- --out FILE] [-- --only webhook|burst|engagement|loyalty]
 *
 * Measures the webhook against its physical floor and the worker against Capillary's rate limit (see
 * run-bench.ts and docs/performance.md), prints one table per figure and writes the results as
 * JSON (bench/results.json unless --out). `--tiny` runs every figure at a token size, only to show it runs.
 * `--only webhook` runs figures 1, 2 and 1b alone and updates the webhook part of the results file (figure 6's cost
 * keeps the full run's handler CPU). `--only burst` runs figure 5c alone and updates its part of the results file (worker.burst, its table and targets);
 * `--only engagement` likewise figure 5d (worker.engagement), `--only loyalty` figure 8 (loyalty in LINE: loyalty).
 */
import '../local/quiet-telemetry';

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseCli } from '../local/cli-args';
import { quietOldNodeWarning } from '../local/node-support';
import { ENGAGEMENT_FIGURE } from './engagement-burst';
import { PROFILES, type BenchProfile } from './profiles';
import {
  runBench,
  runBurstOnly,
  runEngagementOnly,
  runLoyaltyOnly,
  runWebhookOnly,
  webhookResults,
  type BenchPart,
  type BenchResults,
} from './run-bench';
import { targetsTable } from './targets';

const USAGE = 'usage: npm run bench [-- --tiny] [-- --out FILE] [-- --only webhook|burst|engagement|loyalty]';

async function main(): Promise<void> {
  quietOldNodeWarning();
  const { values } = parseCli(USAGE, {
    tiny: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(__dirname, 'results.json') },
    only: { type: 'string' },
  });
  const profile = PROFILES[values.tiny ? 'tiny' : 'full'];
  if (values.only !== undefined) {
    const only = ONLY[values.only as keyof typeof ONLY];
    if (only === undefined) throw new Error(`--only takes ${Object.keys(ONLY).join(' or ')}, got "${values.only}"`);
    return only(values.out, profile, (line) => process.stderr.write(`bench: ${line}\n`));
  }
  const results = await runBench(profile, (line) => process.stderr.write(`bench: ${line}\n`));
  process.stdout.write(
    `Bench (${results.profile}) on ${results.date}: node ${results.node}, ${results.cores} cores (${results.cpuModel}), ${results.durationSeconds} s\n\n`,
  );
  process.stdout.write(`${results.tables.join('\n')}\n`);
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${values.out}\n`);
}

/** What `--only` runs: the figures, then their part put into the results file after the figure they follow. */
const ONLY = {
  webhook: async (out: string, profile: BenchProfile, progress: (line: string) => void) =>
    updatePart(out, await runWebhookOnly(profile, progress), {
      figures: ['Figure 1', 'Figure 2', 'Figure 1b'],
      put: (results, webhook) => (results.webhook = webhookResults(webhook)),
    }),
  burst: async (out: string, profile: BenchProfile, progress: (line: string) => void) =>
    updatePart(out, await runBurstOnly(profile, progress), {
      figures: ['Figure 5c'],
      after: 'Figure 5b',
      put: (results, burst) => (results.worker.burst = burst),
    }),
  engagement: async (out: string, profile: BenchProfile, progress: (line: string) => void) =>
    updatePart(out, await runEngagementOnly(profile, progress), {
      figures: [ENGAGEMENT_FIGURE],
      after: 'Figure 5c',
      put: (results, engagement) => (results.worker.engagement = engagement),
    }),
  loyalty: async (out: string, profile: BenchProfile, progress: (line: string) => void) =>
    updatePart(out, await runLoyaltyOnly(profile, progress), {
      figures: ['Figure 8'],
      after: 'Figure 7',
      put: (results, loyalty) => (results.loyalty = loyalty),
    }),
};

/**
 * Puts one part into an existing results file (its figures, tables and targets), the rest untouched: its tables after
 * the figure `after` names (first without one).
 */
function updatePart<F>(
  out: string,
  { figures, tables, targets }: BenchPart<F>,
  {
    figures: names,
    after,
    put,
  }: { figures: string[]; after?: string; put: (results: BenchResults, figures: F) => void },
): void {
  process.stdout.write(`${tables.join('\n')}\n`);
  if (!existsSync(out)) throw new Error(`${out} does not exist: run the whole bench first`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  const targetNames = new Set(targets.map((target) => target.what));
  put(results, figures);
  results.targets = [...results.targets.filter((target) => !targetNames.has(target.what)), ...targets];
  const titled = (text: string, figure: string) => text.startsWith(`### ${figure} `);
  const otherTables = results.tables.filter((text) => !names.some((figure) => titled(text, figure)));
  const at = after === undefined ? 0 : otherTables.findIndex((text) => titled(text, after)) + 1;
  results.tables = [...otherTables.slice(0, at), ...tables, ...otherTables.slice(at)].map((text) =>
    text.startsWith('### Targets') ? targetsTable(results.targets) : text,
  );
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results (${names.join(', ')}): ${out}\n`);
}

main().then(
  // Keep-alive sockets of the stand-ins' clients would otherwise hold the process open for a while.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
