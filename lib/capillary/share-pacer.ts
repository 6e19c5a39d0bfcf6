import { sleep, type Sleep } from '../retry/sleep';
import type { RateLimiter } from './rate-limiter';

/**
 * Keeps one job (the backfill, the drift check) to its share of the Capillary budget (a part of the per-minute limit),
 * so the live pipeline always finds tokens in the shared bucket. It only spaces that job's own calls;
 * the budget itself is the shared limiter, taken after this one.
 */
export class SharePacer implements RateLimiter {
  #nextSlot = 0;
  readonly #msPerToken: number;

  constructor(
    tokensPerMinute: number,
    private readonly pause: Sleep = sleep,
  ) {
    this.#msPerToken = 60_000 / tokensPerMinute;
  }

  async take(tokens: number, deadlineAt: number): Promise<boolean> {
    const now = Date.now();
    const slot = Math.max(now, this.#nextSlot);
    if (slot > deadlineAt) return false;
    this.#nextSlot = slot + tokens * this.#msPerToken;
    if (slot > now) await this.pause(slot - now);
    return true;
  }
}

/** Both budgets, in order: this job's share first, then the shared bucket. */
export function allOf(...limiters: RateLimiter[]): RateLimiter {
  return {
    async take(tokens, deadlineAt) {
      for (const limiter of limiters) if (!(await limiter.take(tokens, deadlineAt))) return false;
      return true;
    },
  };
}
