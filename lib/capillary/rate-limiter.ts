/**
 * The Capillary budget shared by every caller of one API key (the live workers and the backfill): the
 * per-minute limit is one budget (docs/capillary.md#rate-limits). `take` resolves true once `tokens`
 * were taken (waiting for them if need be), false when they cannot be had before `deadlineAt` (epoch
 * ms); nothing is taken then.
 */
export interface RateLimiter {
  take(tokens: number, deadlineAt: number): Promise<boolean>;
}

/** For an HTTP client whose caller takes the tokens itself (the bulk registrar, the drift check): it takes none again. */
export const TAKEN_BY_CALLER: RateLimiter = { take: async () => true };

/** A per-minute limit turned into evenly spaced request slots. */
export interface SlotPlan {
  /** one slot every intervalMs: the limit less the headroom */
  intervalMs: number;
  /**
   * A slot may be used up to this long after its time, and an idle bucket books from half this long ago;
   * a later use could exceed the limit, so such a slot is given up.
   */
  maxLagMs: number;
  /** the most slots one booking takes (about BLOCK_SPAN_MS of the limit): one write serves the calls waiting together */
  maxBlock: number;
}

/**
 * Kept below the limit: the spacing leaves 3% of the minute, which absorbs slots used a little late and
 * the jitter between our clock and the moment Capillary counts a request.
 */
const HEADROOM = 0.03;
const BLOCK_SPAN_MS = 5000;
const MAX_BLOCK = 20;

export function slotPlan(limitPerMinute: number): SlotPlan {
  const intervalMs = 60_000 / (limitPerMinute * (1 - HEADROOM));
  // The headroom holds limit × 3% slots; two of them cover the window's edge and network jitter, the rest may lag.
  const lagSlots = Math.max(0, limitPerMinute * HEADROOM - 2);
  return {
    intervalMs,
    maxLagMs: lagSlots * intervalMs,
    maxBlock: Math.max(1, Math.min(MAX_BLOCK, Math.floor(BLOCK_SPAN_MS / intervalMs))),
  };
}
