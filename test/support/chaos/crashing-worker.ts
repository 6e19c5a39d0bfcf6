import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { WorkerConfig } from '../../../lib/config';
import type { LineEventFacts } from '../../../lib/domain/sync-rules';
import { type AppliedChange, type ClaimResult, type LineUserKey, UserSyncStore } from '../../../lib/store/user-sync-store';
import type { SyncDeps } from '../../../lib/worker/sync-line-event';
import { buildSyncDeps } from '../../../lib/worker/worker-runtime';
import { crashCurrentInvocation } from './lambda-sandbox';
import type { CrashPoint } from './scenario';

export interface GrantedClaim {
  userId: string;
  webhookEventId: string;
  timestamp: number;
}

/**
 * The real store, plus two things a test needs: the worker process dies on schedule around the commit
 * (after Capillary was called), and every granted claim is logged in the order DynamoDB granted it.
 */
export class CrashingUserSyncStore extends UserSyncStore {
  readonly grantedClaims: GrantedClaim[] = [];
  readonly crashes: Record<CrashPoint, number> = { 'before-commit': 0, 'after-commit': 0 };
  #commits = 0;

  constructor(client: DynamoDBClient, tableName: string, claimTtlMs: number, private readonly crashPlan: readonly (CrashPoint | null)[]) {
    super(client, tableName, claimTtlMs);
  }

  override async claim(key: LineUserKey, event: LineEventFacts, now?: number): Promise<ClaimResult> {
    const result = await super.claim(key, event, now);
    if (result.claimed) this.grantedClaims.push({ userId: key.userId, webhookEventId: event.webhookEventId, timestamp: event.timestamp });
    return result;
  }

  override async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now?: number): Promise<void> {
    const crash = this.crashPlan[this.#commits++] ?? null;
    if (crash === 'before-commit') this.#crash(crash);
    await super.complete(key, event, change, now);
    if (crash === 'after-commit') this.#crash(crash);
  }

  #crash(point: CrashPoint): never {
    this.crashes[point] += 1;
    return crashCurrentInvocation(point === 'before-commit' ? 'after the Capillary call, before the DynamoDB commit' : 'after the DynamoDB commit');
  }
}

/** The worker's real dependencies, with the crashing store in place of the plain one. */
export function crashingWorkerDeps(config: WorkerConfig, dynamo: DynamoDBClient, crashPlan: readonly (CrashPoint | null)[]):
  SyncDeps & { store: CrashingUserSyncStore } {
  return { ...buildSyncDeps(config, dynamo), store: new CrashingUserSyncStore(dynamo, config.tableName, config.claimTtlSeconds * 1000, crashPlan) };
}
