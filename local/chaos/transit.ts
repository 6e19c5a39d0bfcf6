/**
 * How long the worker's calls took to reach the stand-ins. The whole chaos run is one Node process, so its load
 * holds requests far longer than a network does; past the bridge's margin the stand-ins do not run them
 * (standin-kit BaseSettings.maxTransitMs), and these figures show how often that happened.
 */
import { percentile } from '../percentile';
import type { CallRecord } from '../standins/standin-kit';

export interface TransitFigures {
  calls: number;
  p99Ms: number;
  maxMs: number;
  /** not run: they arrived past the bound, long after their client gave up (standin-kit BaseSettings.maxTransitMs) */
  late: number;
}

/** The stamped calls' time from the worker's fetch to the stand-in's handler (one process: its load shows here). */
export function transitFigures(calls: readonly CallRecord[]): TransitFigures {
  const times = calls.flatMap((call) => (call.transitMs === undefined ? [] : [call.transitMs]));
  return {
    calls: times.length,
    p99Ms: times.length === 0 ? 0 : percentile(times, 0.99),
    maxMs: times.reduce((max, time) => Math.max(max, time), 0),
    late: calls.filter((call) => call.fault === 'late').length,
  };
}
