/**
 * npm run bench [-- --tiny] [-- --out FILE]
 *
 * Measures the webhook against its physical floor and the worker against Capillary's rate limit (see
 * run-bench.ts and docs/performance.md), prints one table per figure and writes the results as
 * JSON (bench/results.json unless --out). `--tiny` runs every figure at a token size, only to show it runs.
 */
import '../local/quiet-telemetry';

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { PROFILES } from './profiles';
import { runBench } from './run-bench';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tiny: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(__dirname, 'results.json') },
    },
  });
  const profile = PROFILES[values.tiny ? 'tiny' : 'full'];
  const results = await runBench(profile, (line) => process.stderr.write(`bench: ${line}\n`));
  process.stdout.write(
    `Bench (${results.profile}) on ${results.date}: node ${results.node}, ${results.cores} cores (${results.cpuModel}), ${results.durationSeconds} s\n\n`,
  );
  process.stdout.write(`${results.tables.join('\n')}\n`);
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`results: ${values.out}\n`);
}

main().then(
  // Keep-alive sockets of the stand-ins' clients would otherwise hold the process open for a while.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
