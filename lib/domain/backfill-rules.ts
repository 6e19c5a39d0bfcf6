/**
 * What the backfill and the drift check decide for one LINE user. Pure: no AWS, no HTTP.
 *
 * A follower id read from LINE at time T is, for the per-user record, a synthetic follow event with
 * timestamp T: it goes through the same admission rule as a live event (sync-rules `admission`), so a
 * live event newer than T always wins and a user the table already knows as opted in costs nothing.
 */
import { createHash } from 'node:crypto';

import { admission, type LineEventFacts, type SubscriptionState, type UserSyncState } from './sync-rules';

/** Where a synthetic event comes from: the backfill job, or a drift repair. */
export type SyntheticOrigin = 'backfill' | 'reconcile';

/**
 * A stable event id per (origin, run, user): a resumed job re-claims its own claim at once (the same
 * event), a second run is a different event. It carries no part of the LINE user id (ids reach logs).
 */
export function syntheticEventId(origin: SyntheticOrigin, runId: string, userId: string): string {
  const digest = createHash('sha256').update(`${runId}\u0000${userId}`).digest('hex').slice(0, 32);
  return `${origin}-${digest}`;
}

export function syntheticFollow(runId: string, userId: string, snapshotAt: number): LineEventFacts {
  return { type: 'follow', webhookEventId: syntheticEventId('backfill', runId, userId), timestamp: snapshotAt, userId };
}

/**
 * A follower seen by the backfill:
 * - `known`: the table already has them opted in, or a live event at or after the snapshot was applied → no call;
 * - `applied-by-this-job`: this job's own synthetic follow was applied (a page redone after a crash) → no call;
 * - `deferred`: another event's claim is live (a live event in flight) → handed to the ordered pipeline;
 * - `register`: upsert them in Capillary with the LINE opt-in.
 */
export type BackfillVerdict = 'known' | 'applied-by-this-job' | 'deferred' | 'register';

export function backfillVerdict(
  follow: LineEventFacts,
  state: UserSyncState | undefined,
  now: number,
): BackfillVerdict {
  if (state === undefined) return 'register';
  if (state.lastEventId === follow.webhookEventId) return 'applied-by-this-job';
  // Opted in and nothing pending: Capillary already has them (a claim in flight may be an unfollow: ask admission).
  if (state.subscription === 'OPTIN' && state.pendingEventId === undefined) return 'known';
  switch (admission(follow, state, now)) {
    case 'apply':
      return 'register';
    case 'held':
      return 'deferred';
    default:
      // stale: an event at or after the snapshot was applied, and it wins.
      return 'known';
  }
}

export interface BackfillCounters {
  pages: number;
  idsSeen: number;
  alreadyKnown: number;
  registered: number;
  optedIn: number;
  /** handed to the ordered pipeline because a live event for the same user was in flight */
  deferred: number;
  /** rejected by Capillary after the per-record retries: in the DLQ with their reason */
  failed: number;
  capillaryCalls: number;
}

export const ZERO_COUNTERS: BackfillCounters = {
  pages: 0,
  idsSeen: 0,
  alreadyKnown: 0,
  registered: 0,
  optedIn: 0,
  deferred: 0,
  failed: 0,
  capillaryCalls: 0,
};

export function addCounters(a: BackfillCounters, b: Partial<BackfillCounters>): BackfillCounters {
  const sum = { ...a };
  for (const key of Object.keys(ZERO_COUNTERS) as (keyof BackfillCounters)[]) sum[key] = a[key] + (b[key] ?? 0);
  return sum;
}

/** Capillary tokens one bulk call of `records` takes from the shared budget (docs/capillary.md#bulk-upsert). */
export type BulkCountsAs = 'request' | 'record';
export const bulkCost = (records: number, countsAs: BulkCountsAs): number => (countsAs === 'request' ? 1 : records);

/**
 * Followers per hour the job can register at its share of the per-minute limit, when `unknownShare` of the
 * ids seen need a call: the basis of the ETA and of the benchmark's hours for 1,000,000 followers.
 */
export function followersPerHour(
  rateLimitPerMinute: number,
  share: number,
  batchSize: number,
  countsAs: BulkCountsAs,
): number {
  const callsPerHour = rateLimitPerMinute * share * 60;
  return countsAs === 'request' ? callsPerHour * batchSize : callsPerHour;
}

/** Seconds left for the ids not yet seen, at the measured share of ids that needed a call (all, before any is seen). */
export function etaSeconds(
  counters: BackfillCounters,
  estimatedFollowers: number | undefined,
  perHour: number,
): number | undefined {
  if (estimatedFollowers === undefined || perHour <= 0) return undefined;
  const remaining = Math.max(0, estimatedFollowers - counters.idsSeen);
  const needCall = counters.idsSeen === 0 ? 1 : (counters.registered + counters.failed) / counters.idsSeen;
  return Math.ceil((remaining * needCall * 3600) / perHour);
}

/** A `next` token older than this is refused by LINE (docs/line.md#followers): start again from page one. */
export const FOLLOWER_CURSOR_LIFETIME_MS = 24 * 3600 * 1000;

export const cursorExpired = (issuedAt: number | undefined, now: number): boolean =>
  issuedAt !== undefined && now - issuedAt >= FOLLOWER_CURSOR_LIFETIME_MS;

/**
 * The four drift classes of the check (docs/operations.md#drift-check):
 * - `unknown-follower`: LINE says friend, the table has no record;
 * - `missed-follow`: LINE says friend, the table says OPTOUT;
 * - `missed-unfollow`: the table says OPTIN, LINE no longer lists them;
 * - `capillary-differs`: the table agrees with LINE, Capillary's subscription does not.
 */
export type DriftClass = 'unknown-follower' | 'missed-follow' | 'missed-unfollow' | 'capillary-differs';
export const DRIFT_CLASSES: readonly DriftClass[] = [
  'unknown-follower',
  'missed-follow',
  'missed-unfollow',
  'capillary-differs',
];

export interface UserObservation {
  isFollower: boolean;
  /** the table's record, undefined when there is none */
  table: UserSyncState | undefined;
  /** Capillary's LINE subscription; undefined when not read (sampling) or unknown to Capillary */
  capillary?: SubscriptionState | 'none';
}

export function classifyDrift({ isFollower, table, capillary }: UserObservation): DriftClass | undefined {
  // A record with a claim in flight is being changed right now: not drift, the pipeline is on it.
  if (table?.pendingEventId !== undefined) return undefined;
  if (isFollower && (table === undefined || table.subscription === undefined)) return 'unknown-follower';
  if (isFollower && table?.subscription === 'OPTOUT') return 'missed-follow';
  if (!isFollower && table?.subscription === 'OPTIN') return 'missed-unfollow';
  const expected: SubscriptionState | undefined = table?.subscription;
  if (capillary !== undefined && expected !== undefined && table?.customerId !== undefined && capillary !== expected)
    return 'capillary-differs';
  return undefined;
}

/** The event that repairs a drift through the ordered pipeline: LINE's truth at the time it was observed. */
export function repairEventType(drift: DriftClass, observation: UserObservation): 'follow' | 'unfollow' {
  if (drift === 'capillary-differs') return observation.table?.subscription === 'OPTIN' ? 'follow' : 'unfollow';
  return drift === 'missed-unfollow' ? 'unfollow' : 'follow';
}
