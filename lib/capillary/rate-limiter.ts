/**
 * The Capillary budget shared by every caller of one API key (the live workers and the backfill): the
 * per-minute limit is one budget (docs/capillary.md#rate-limits). `take` resolves true once `tokens`
 * were taken, false when they cannot be had before `deadlineAt` (epoch ms); nothing is taken then.
 */
export interface RateLimiter {
  take(tokens: number, deadlineAt: number): Promise<boolean>;
}
