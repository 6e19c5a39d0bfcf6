/** Medians over repeated samples: robust to the odd descheduled or GC-heavy sample on a noisy machine. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Keyed by the string form of each key, as the results file keys its per-size / per-limit figures. */
export function byKey<K extends string | number, V>(keys: readonly K[], valueOf: (key: K) => V): Record<string, V> {
  return Object.fromEntries(keys.map((key) => [String(key), valueOf(key)]));
}

export { percentile } from '../local/percentile';
