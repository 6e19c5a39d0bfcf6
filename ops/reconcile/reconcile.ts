/**
 * The drift check (docs/operations.md#drift-check): LINE's follower list, the user table and Capillary's
 * subscription state compared user by user, counted per drift class, and — with `repair` — each drift
 * fixed by a synthetic event in the user's FIFO group, timestamped when LINE's list was read: a live event
 * newer than that always wins, and nothing is written around the ordered pipeline.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { RateLimiter } from '../../lib/capillary/rate-limiter';
import {
  classifyDrift,
  DRIFT_CLASSES,
  repairEventType,
  syntheticEventId,
  type DriftClass,
  type UserObservation,
} from '../../lib/domain/backfill-rules';
import type { UserSyncState } from '../../lib/domain/sync-rules';
import type { LineFollowersClient } from '../../lib/line/follower-pages';
import { maskUserId } from '../../lib/observability/telemetry';
import type { SyntheticEventSender } from '../../lib/queue/synthetic-events';
import { scanUserRecords } from '../../lib/store/user-census';
import { DriftCheckBudgetError } from './errors';
import type { CapillarySubscription } from './subscription-reader';

export interface ReconcileDeps {
  followers: LineFollowersClient;
  dynamo: DynamoDBClient;
  tableName: string;
  destination: string;
  /** one Capillary read per checked customer */
  readSubscription: (customerId: number) => Promise<CapillarySubscription>;
  /** the shared Capillary budget: each read takes one token */
  limiter: RateLimiter;
  /** the events queue */
  pipeline: SyntheticEventSender;
}

export interface ReconcileOptions {
  runId: string;
  repair: boolean;
  /** check Capillary for this many random customers only (undefined = every customer the table knows) */
  sample?: number;
  random?: () => number;
  /** how long one Capillary read may wait for the budget */
  readTimeoutMs?: number;
}

export interface ReconcileReport {
  observedAt: number;
  followers: number;
  tableRecords: number;
  capillaryChecked: number;
  counts: Record<DriftClass, number>;
  /** masked user ids per class */
  users: Record<DriftClass, string[]>;
  repaired: number;
}

function pick<T>(items: T[], count: number, random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy.slice(0, count);
}

export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const observedAt = Date.now();
  const followerIds = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.followers.page(cursor);
    for (const userId of page.userIds) followerIds.add(userId);
    cursor = page.next;
  } while (cursor !== undefined);

  const records = new Map<string, UserSyncState>();
  for await (const { userId, state } of scanUserRecords(deps.dynamo, deps.tableName, deps.destination))
    records.set(userId, state);

  const observations = new Map<string, UserObservation>();
  for (const userId of new Set([...followerIds, ...records.keys()])) {
    observations.set(userId, { isFollower: followerIds.has(userId), table: records.get(userId) });
  }
  // Capillary is read only where the table and LINE agree and a customer is known: the other classes need no read.
  const checkable = [...observations.entries()]
    .filter(
      ([, observation]) => observation.table?.customerId !== undefined && classifyDrift(observation) === undefined,
    )
    .map(([userId]) => userId);
  const toCheck =
    options.sample === undefined ? checkable : pick(checkable, options.sample, options.random ?? Math.random);
  for (const userId of toCheck) {
    const observation = observations.get(userId) as UserObservation;
    const waitMs = options.readTimeoutMs ?? 120_000;
    if (!(await deps.limiter.take(1, Date.now() + waitMs))) throw new DriftCheckBudgetError(waitMs);
    observation.capillary = await deps.readSubscription(observation.table?.customerId as number);
  }

  const counts = Object.fromEntries(DRIFT_CLASSES.map((drift) => [drift, 0])) as Record<DriftClass, number>;
  const users = Object.fromEntries(DRIFT_CLASSES.map((drift) => [drift, [] as string[]])) as Record<
    DriftClass,
    string[]
  >;
  const repairs = [];
  for (const [userId, observation] of observations) {
    const drift = classifyDrift(observation);
    if (drift === undefined) continue;
    counts[drift] += 1;
    users[drift].push(maskUserId(userId) as string);
    repairs.push({
      facts: {
        type: repairEventType(drift, observation),
        webhookEventId: syntheticEventId('reconcile', options.runId, userId),
        timestamp: observedAt,
        userId,
      },
      reason: `reconcile ${options.runId}: ${drift}`,
    });
  }
  if (options.repair) await deps.pipeline.send(repairs);
  return {
    observedAt,
    followers: followerIds.size,
    tableRecords: records.size,
    capillaryChecked: toCheck.length,
    counts,
    users,
    repaired: options.repair ? repairs.length : 0,
  };
}
