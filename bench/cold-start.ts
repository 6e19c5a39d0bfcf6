/**
 * Figure 3: bundle size per function and how long a fresh `node` takes to load the bundle until its
 * handler is exported, against a fresh `node -e ''`. Spawns are interleaved (rotating order) so both
 * see the same machine; each is timed from spawn to exit.
 */
import { spawnSync } from 'node:child_process';

import type { DeployedFunction, Deployment } from './deployment';
import { median, round } from './stats';
import { renderTable } from './table';

export interface ColdStartFigures {
  bundleBytes: Record<string, number>;
  /** median ms from spawn to exit */
  emptyNodeMs: number;
  loadMs: Record<string, number>;
  ratio: Record<string, number>;
  rounds: number;
}

const LOAD_HANDLER = "if (typeof require(process.argv[1]).handler !== 'function') process.exit(3)";

function timeSpawnMs(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return elapsedMs;
}

export function measureColdStart(rounds: number, deployment: Deployment): ColdStartFigures {
  const functions: DeployedFunction[] = [deployment.webhook, deployment.worker];
  // Each process gets its function's deployed environment (module init reads it), and nothing from ours.
  const runs = [
    { name: 'empty', args: ['-e', ''], env: {} },
    ...functions.map((fn) => ({ name: fn.name, args: ['-e', LOAD_HANDLER, fn.bundlePath], env: fn.environment })),
  ];
  const samples = new Map<string, number[]>(runs.map((run) => [run.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < runs.length; i += 1) {
      const run = runs[(i + round) % runs.length] as (typeof runs)[number];
      samples.get(run.name)?.push(timeSpawnMs(run.args, run.env));
    }
  }
  const medianMs = (name: string) => median(samples.get(name) ?? []);
  const perFunction = <V>(valueOf: (fn: DeployedFunction) => V) =>
    Object.fromEntries(functions.map((fn) => [fn.name, valueOf(fn)]));
  return {
    bundleBytes: perFunction((fn) => fn.bundleBytes),
    emptyNodeMs: round(medianMs('empty'), 1),
    loadMs: perFunction((fn) => round(medianMs(fn.name), 1)),
    ratio: perFunction((fn) => round(medianMs(fn.name) / medianMs('empty'), 2)),
    rounds,
  };
}

export function coldStartTable(figures: ColdStartFigures): string {
  return renderTable(
    `Figure 3 — cold start: fresh node loading the minified bundle vs \`node -e ''\` (${figures.emptyNodeMs} ms), medians of ${figures.rounds}`,
    ['function', 'bundle bytes', 'load ms', 'ratio (webhook target ≤ 2)'],
    Object.keys(figures.bundleBytes).map((name) => [
      name,
      figures.bundleBytes[name] ?? 0,
      figures.loadMs[name] ?? 0,
      figures.ratio[name] ?? 0,
    ]),
  );
}
