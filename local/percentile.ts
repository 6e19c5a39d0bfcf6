/** The nearest-rank percentile (`share` from 0 to 1): the value at or below which that share of the samples lie. */
export function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] as number;
}
