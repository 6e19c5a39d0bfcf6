/**
 * The drift check (docs/operations.md#drift-check): LINE's follower list, the user table and Capillary (who holds the
 * user's LINE profile, and its subscription) compared user by user, counted per drift class (ops/reconcile/
 * identity-drift), and — with `repair` — each drift fixed by a synthetic event in the user's FIFO group, timestamped
 * when LINE's list was read: a live event newer than that always wins, and nothing is written around the ordered
 * pipeline. Forgotten users (deleted on a PII request) are reported apart and left alone.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { RateLimiter } from '../../lib/capillary/rate-limiter';
import { classifyDrift, syntheticEventId } from '../../lib/domain/backfill-rules';
import type { UserSyncState } from '../../lib/domain/sync-rules';
import type { LineFollowersClient } from '../../lib/line/follower-pages';
import { maskUserId } from '../../lib/observability/telemetry';
import type { SyntheticEvent, SyntheticEventSender } from '../../lib/queue/synthetic-events';
import { scanUserRecords } from '../../lib/store/user-census';
import { DriftCheckBudgetError } from './errors';
import {
  classifyReconcile,
  RECONCILE_DRIFT_CLASSES,
  repairOf,
  type ReconcileDriftClass,
  type ReconcileObservation,
} from './identity-drift';
import type { CustomerIdentity } from './identity-reader';
import type { CapillarySubscription } from './subscription-reader';

export interface ReconcileDeps {
  followers: LineFollowersClient;
  dynamo: DynamoDBClient;
  tableName: string;
  destination: string;
  /** one Capillary read per checked customer */
  readSubscription: (customerId: number) => Promise<CapillarySubscription>;
  /** who holds the user's LINE profile: the customer read, then (when it lacks the profile) a lookup; `beforeRead` each */
  readIdentity: (customerId: number, userId: string, beforeRead: () => Promise<void>) => Promise<CustomerIdentity>;
  /** CAPILLARY_REGISTRATION_MODE=on-link: friends who never linked have no customer */
  defersRegistration: boolean;
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
  counts: Record<ReconcileDriftClass, number>;
  /** masked user ids per class */
  users: Record<ReconcileDriftClass, string[]>;
  /** users Capillary deleted on a PII request: on no customer on purpose, not drift */
  forgotten: number;
  forgottenUsers: string[];
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

async function readFollowers(deps: ReconcileDeps): Promise<Set<string>> {
  const followerIds = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.followers.page(cursor);
    for (const userId of page.userIds) followerIds.add(userId);
    cursor = page.next;
  } while (cursor !== undefined);
  return followerIds;
}

/** Capillary for each checked customer: who holds the LINE profile, then (all well so far) the subscription. */
async function readCapillary(
  deps: ReconcileDeps,
  checked: [string, ReconcileObservation][],
  readTimeoutMs: number,
): Promise<void> {
  const beforeRead = async () => {
    if (!(await deps.limiter.take(1, Date.now() + readTimeoutMs))) throw new DriftCheckBudgetError(readTimeoutMs);
  };
  for (const [userId, observation] of checked) {
    const customerId = observation.table?.customerId as number;
    observation.identity = await deps.readIdentity(customerId, userId, beforeRead);
    if (observation.identity.kind !== 'holds-line-profile' || classifyDrift(observation) !== undefined) continue;
    await beforeRead();
    observation.capillary = await deps.readSubscription(customerId);
  }
}

export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const observedAt = Date.now();
  const followerIds = await readFollowers(deps);
  const records = new Map<string, UserSyncState>();
  for await (const { userId, state } of scanUserRecords(deps.dynamo, deps.tableName, deps.destination))
    records.set(userId, state);

  const observations = new Map<string, ReconcileObservation>();
  for (const userId of new Set([...followerIds, ...records.keys()])) {
    observations.set(userId, { isFollower: followerIds.has(userId), table: records.get(userId) });
  }
  // Capillary is read for the records that name a customer and are neither forgotten nor being changed right now.
  const checkable = [...observations.entries()].filter(
    ([, { table }]) =>
      table?.customerId !== undefined && table.forgottenAt === undefined && table.pendingEventId === undefined,
  );
  const checked =
    options.sample === undefined ? checkable : pick(checkable, options.sample, options.random ?? Math.random);
  await readCapillary(deps, checked, options.readTimeoutMs ?? 120_000);

  const counts = Object.fromEntries(RECONCILE_DRIFT_CLASSES.map((drift) => [drift, 0])) as Record<
    ReconcileDriftClass,
    number
  >;
  const users = Object.fromEntries(RECONCILE_DRIFT_CLASSES.map((drift) => [drift, [] as string[]])) as Record<
    ReconcileDriftClass,
    string[]
  >;
  const forgottenUsers: string[] = [];
  const repairs: SyntheticEvent[] = [];
  for (const [userId, observation] of observations) {
    const verdict = classifyReconcile(observation, deps);
    if (verdict === undefined) continue;
    if (verdict === 'forgotten') {
      forgottenUsers.push(maskUserId(userId) as string);
      continue;
    }
    counts[verdict] += 1;
    users[verdict].push(maskUserId(userId) as string);
    const { type, ...fields } = repairOf(verdict, observation);
    repairs.push({
      facts: {
        type,
        webhookEventId: syntheticEventId('reconcile', options.runId, userId),
        timestamp: observedAt,
        userId,
      },
      ...fields,
      reason: `reconcile ${options.runId}: ${verdict}`,
    });
  }
  if (options.repair) await deps.pipeline.send(repairs);
  return {
    observedAt,
    followers: followerIds.size,
    tableRecords: records.size,
    capillaryChecked: checked.length,
    counts,
    users,
    forgotten: forgottenUsers.length,
    forgottenUsers,
    repaired: options.repair ? repairs.length : 0,
  };
}
