import type { LoyaltyProfile } from './loyalty';

/**
 * How much work each figure does. `full` is the run quoted in the README (about 9 minutes on 2 cores,
 * most of it the rate-limited worker windows); `tiny` only proves that every figure runs (npm test).
 */
export interface BenchProfile {
  name: 'full' | 'tiny';
  webhook: {
    /** events per signed callback body for the CPU figure */
    bodySizes: number[];
    /** events per body for the SendMessageBatch count figure (0 = the console's Verify request) */
    callCountSizes: number[];
    /** interleaved handler/floor sample pairs per body size */
    samples: number;
    /** CPU time one sample should take; short samples drown in timer and scheduler noise */
    sampleMs: number;
    warmupMs: number;
  };
  coldStart: { rounds: number };
  economy: { usersPerCase: number };
  throughput: {
    rateLimitsPerMinute: number[];
    /** worker instances (Lambda concurrency); the deployed maximumConcurrency is always added */
    concurrencies: number[];
    /** follow events queued before the workers start */
    backlogEvents: number;
    /** workers stop taking new batches after this; a window over 60 s exercises the sliding-minute limit */
    windowSeconds: number;
    /** both stand-ins (Capillary and LINE) answer after this */
    latencyMs: number;
    /** the below-limit run's arrival rate, as a share of the new followers per minute the limit carries */
    belowLimitShare: number;
  };
  /** loyalty in LINE (figure 8, bench/loyalty.ts) */
  loyalty: LoyaltyProfile;
  /** a campaign's burst of new friends (instore+line): the single-call path against the bulk registration */
  burst: {
    rateLimitPerMinute: number;
    /** follow events queued before the workers start (more than the window can register in bulk) */
    backlogEvents: number;
    windowSeconds: number;
    latencyMs: number;
    /** lone follows (no burst), one batch each at half what the limit carries, for this long per path */
    loneFollowSeconds: number;
  };
  /** a burst of postback taps (engagement events) while new followers arrive (instore+line), against no burst */
  engagement: {
    taps: number;
    /** the tapping users (existing customers), each tapping taps ÷ tappers times */
    tappers: number;
    /** taps and new followers arrive over this long, evenly (taps in a random order of users) */
    arrivalSeconds: number;
    followersPerMinute: number;
    /** after the last follower arrives, the run waits this long at most for the followers still queued */
    waitSeconds: number;
    /** Capillary's REST limit */
    rateLimitPerMinute: number;
    /** the ingest URL's own bucket; absent: as deployed (capillaryBehaviouralEventsRateLimitRpm) */
    ingestRateLimitPerMinute?: number;
    latencyMs: number;
    /** runs without and with the burst, alternating; their followers pool (one pair of runs is too few for a p99) */
    rounds: number;
  };
  backfill: {
    /** followers for the calls-per-follower and rerun figures */
    economyFollowers: number;
    rateLimitsPerMinute: number[];
    /** followers listed for each rate window (more than the window can register) */
    rateFollowers: number;
    windowSeconds: number;
    /** the deployed backfillRateSharePercent */
    ratePercentShare: number;
    latencyMs: number;
    live: {
      followers: number;
      rateLimitPerMinute: number;
      countsAs: 'request' | 'record';
      liveEvents: number;
      gapMs: number;
    };
  };
}

export const PROFILES: Record<BenchProfile['name'], BenchProfile> = {
  full: {
    name: 'full',
    webhook: {
      bodySizes: [1, 10, 100],
      callCountSizes: [0, 1, 10, 11, 100],
      samples: 31,
      sampleMs: 40,
      warmupMs: 1500,
    },
    coldStart: { rounds: 30 },
    economy: { usersPerCase: 10 },
    throughput: {
      rateLimitsPerMinute: [100, 1000],
      concurrencies: [1, 2, 4],
      backlogEvents: 2000,
      windowSeconds: 65,
      latencyMs: 80,
      belowLimitShare: 0.5,
    },
    burst: { rateLimitPerMinute: 100, backlogEvents: 2000, windowSeconds: 65, latencyMs: 80, loneFollowSeconds: 40 },
    loyalty: { tierChanges: 200, bulkMembers: 1001, pointsAnswers: 300 },
    engagement: {
      taps: 10_000,
      tappers: 1000,
      arrivalSeconds: 90,
      followersPerMinute: 25,
      waitSeconds: 120,
      rateLimitPerMinute: 100,
      latencyMs: 80,
      rounds: 3,
    },
    backfill: {
      economyFollowers: 1000,
      rateLimitsPerMinute: [100, 1000],
      rateFollowers: 8000,
      windowSeconds: 65,
      ratePercentShare: 50,
      latencyMs: 80,
      live: { followers: 5000, rateLimitPerMinute: 1000, countsAs: 'request', liveEvents: 40, gapMs: 1000 },
    },
  },
  tiny: {
    name: 'tiny',
    webhook: { bodySizes: [1, 10, 100], callCountSizes: [0, 1, 10, 11, 100], samples: 3, sampleMs: 5, warmupMs: 50 },
    coldStart: { rounds: 3 },
    economy: { usersPerCase: 2 },
    throughput: {
      rateLimitsPerMinute: [1200],
      concurrencies: [1, 2],
      backlogEvents: 200,
      windowSeconds: 2,
      latencyMs: 20,
      belowLimitShare: 0.5,
    },
    burst: { rateLimitPerMinute: 1200, backlogEvents: 200, windowSeconds: 2, latencyMs: 20, loneFollowSeconds: 2 },
    loyalty: { tierChanges: 5, bulkMembers: 5, pointsAnswers: 5 },
    engagement: {
      taps: 100,
      tappers: 10,
      arrivalSeconds: 1,
      followersPerMinute: 240,
      waitSeconds: 3,
      rateLimitPerMinute: 1200,
      ingestRateLimitPerMinute: 6000,
      latencyMs: 20,
      rounds: 2,
    },
    backfill: {
      economyFollowers: 50,
      rateLimitsPerMinute: [100, 1000],
      rateFollowers: 200,
      windowSeconds: 2,
      ratePercentShare: 50,
      latencyMs: 5,
      live: { followers: 100, rateLimitPerMinute: 6000, countsAs: 'request', liveEvents: 3, gapMs: 50 },
    },
  },
};
