import { sleep, type Sleep } from './sleep';

export interface RetryPolicy {
  /** Attempts in all, the first included; at least one is always made. */
  maxAttempts: number;
  /** The pause after failed attempt `attempt` (1, 2, …) before the next one. */
  delayMs: (attempt: number) => number;
  sleep?: Sleep;
}

/**
 * What one attempt came to: a result, or a failure worth another attempt. `withoutPause` starts the next
 * attempt at once (a fix the attempt made itself, such as dropping a stale token).
 */
export type Attempt<T, F> = { done: T } | { failed: F; withoutPause?: boolean };

/** The result of the first attempt that had one, or the last attempt's failure once every attempt failed. */
export type Retried<T, F> = { done: T } | { failed: F };

/**
 * The one retry loop of the bridge (Capillary, LINE, SQS): attempts until one is done or `maxAttempts` are
 * spent, pausing between attempts. What counts as done, as worth repeating, or as hopeless (a throw, which
 * ends the loop at once) is the attempt's own call.
 */
export async function withRetries<T, F>(
  policy: RetryPolicy,
  attempt: (attempt: number) => Promise<Attempt<T, F>>,
): Promise<Retried<T, F>> {
  const pause = policy.sleep ?? sleep;
  for (let count = 1; ; count++) {
    const outcome = await attempt(count);
    if ('done' in outcome) return outcome;
    if (count >= policy.maxAttempts) return { failed: outcome.failed };
    if (!outcome.withoutPause) await pause(policy.delayMs(count));
  }
}

/** `baseMs` after the first failed attempt, doubling after each next one, never above `capMs`. */
export const exponentialDelay =
  (baseMs: number, capMs = Number.POSITIVE_INFINITY) =>
  (attempt: number): number =>
    Math.min(capMs, baseMs * 2 ** (attempt - 1));

/** "Full jitter": a random pause up to the delay, so clients that failed together do not all come back together. */
export const fullJitter =
  (delayMs: (attempt: number) => number, random: () => number = Math.random) =>
  (attempt: number): number =>
    Math.round(random() * delayMs(attempt));
