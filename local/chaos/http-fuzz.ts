/**
 * The loop both HTTP endpoint fuzzers share (link API, Capillary notifications): fast-check feeds a handler
 * recipes, every answer must be a 4xx, and fast-check shrinks the first that is not. The caller counts what its
 * endpoint must not have done (queued events, stored items) once the loop is over.
 */
import fc from 'fast-check';

import type { TableRow } from './report-table';

export interface HttpFuzzCounts {
  requests: number;
  byStatus: Record<string, number>;
  byGenerator: Record<string, number>;
  crashes: number;
}

export interface HttpFuzzRun {
  counts: HttpFuzzCounts;
  /** fast-check's report of the first request answered outside 4xx or that crashed the handler */
  failure?: string;
}

export async function fuzzHttpHandler<Recipe extends { generator: string }>(
  recipes: fc.Arbitrary<Recipe>,
  statusOf: (recipe: Recipe) => Promise<number>,
  { seed, requests, path }: { seed: number; requests: number; path?: string },
): Promise<HttpFuzzRun> {
  const counts: HttpFuzzCounts = { requests: 0, byStatus: {}, byGenerator: {}, crashes: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(recipes, async (recipe) => {
        counts.requests += 1;
        counts.byGenerator[recipe.generator] = (counts.byGenerator[recipe.generator] ?? 0) + 1;
        let status: number;
        try {
          status = await statusOf(recipe);
        } catch (error) {
          counts.crashes += 1;
          throw error;
        }
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
        if (status < 400 || status > 499) throw new Error(`answered ${status}`);
      }),
      { seed, numRuns: requests, path, endOnFailure: true },
    );
    return { counts };
  } catch (error) {
    return { counts, failure: (error as Error).message };
  }
}

/** The report rows every HTTP fuzzer prints first: requests, answers per status and per generator, crashes. */
export function httpFuzzRows(counts: HttpFuzzCounts): TableRow[] {
  return [
    ['requests', counts.requests],
    ...Object.entries(counts.byStatus)
      .sort()
      .map(([status, count]): TableRow => [`  answered ${status}`, count]),
    ...Object.entries(counts.byGenerator)
      .sort()
      .map(([generator, count]): TableRow => [`  ${generator}`, count]),
    ['crashes (the handler threw)', counts.crashes],
  ];
}
