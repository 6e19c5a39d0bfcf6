import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import type { WorkerConfig } from '../../lib/config/worker-config';
import type { EventLane, LineEventFacts, UserSyncState } from '../../lib/domain/sync-rules';
import type { AppliedChange, ClaimResult, LineUserKey, UserRecordStore } from '../../lib/store/ports';
import type { PostedEngagementStore } from '../../lib/store/posted-engagement-store';
import { buildSyncDeps, type SyncDeps } from '../../lib/worker/worker-deps';
import { crashCurrentInvocation } from './lambda-sandbox';
import type { CrashPoint } from './scenario';

/** A claim DynamoDB granted, a commit it accepted, or a claim released without recording (a refused link), for one event. */
export interface StoreWrite {
  kind: 'claim' | 'commit' | 'release';
  /** the bot: one record per bot and user */
  destination: string;
  userId: string;
  webhookEventId: string;
  timestamp: number;
  lane: EventLane;
  /** when it was written (epoch ms), to read it beside the settlements and Capillary calls of a trace */
  at: number;
  /** claims: the record the claim replaced, as DynamoDB returned it (it shows claims nobody journaled) */
  before?: UserSyncState;
}

/** Shared by every worker instance of a run: the crash schedule, and every granted claim and accepted commit, in order. */
export class WorkerJournal {
  readonly storeWrites: StoreWrite[] = [];
  readonly crashes: Record<CrashPoint, number> = { 'before-commit': 0, 'after-commit': 0, 'stall-before-commit': 0 };
  /**
   * Engagement event id → posts the ingest answered that the worker then failed to remember (its invocation ended
   * first, or DynamoDB refused): the retry posts again, as it must, so the engagement oracle allows one more post
   * for each, as for an answer lost on the wire.
   */
  readonly postsNotRemembered = new Map<string, number>();
  #commits = 0;

  constructor(private readonly crashPlan: readonly (CrashPoint | null)[]) {}

  /** The crash (if any) scheduled for the next DynamoDB commit. */
  nextCommitCrash(): CrashPoint | null {
    return this.crashPlan[this.#commits++] ?? null;
  }
}

/**
 * The worker's store, but the worker dies on schedule around the commit (after Capillary was called): its
 * process crashes, or it stalls until the Lambda timeout ends the invocation.
 */
class CrashingUserRecordStore implements UserRecordStore {
  constructor(
    private readonly store: UserRecordStore,
    private readonly journal: WorkerJournal,
  ) {}

  async claim(key: LineUserKey, event: LineEventFacts, now?: number): Promise<ClaimResult> {
    const result = await this.store.claim(key, event, now);
    if (result.claimed) this.#record('claim', key, event, result.state);
    return result;
  }

  async complete(key: LineUserKey, event: LineEventFacts, change: AppliedChange, now?: number): Promise<void> {
    const crash = this.journal.nextCommitCrash();
    if (crash !== null) this.journal.crashes[crash] += 1;
    if (crash === 'stall-before-commit') await new Promise<never>(() => {});
    if (crash === 'before-commit') crashCurrentInvocation('after the Capillary call, before the DynamoDB commit');
    await this.store.complete(key, event, change, now);
    // A released claim (a refused link) records nothing in its lane.
    this.#record(change.recordEvent === false ? 'release' : 'commit', key, event);
    if (crash === 'after-commit') crashCurrentInvocation('after the DynamoDB commit');
  }

  read(key: LineUserKey): Promise<UserSyncState | undefined> {
    return this.store.read(key);
  }

  #record(kind: StoreWrite['kind'], key: LineUserKey, event: LineEventFacts, before?: UserSyncState): void {
    this.journal.storeWrites.push({
      kind,
      destination: key.destination,
      userId: key.userId,
      webhookEventId: event.webhookEventId,
      timestamp: event.timestamp,
      lane: event.lane ?? 'sync',
      at: Date.now(),
      before,
    });
  }
}

/** The posted-events store, noting each remembering that failed after the post was answered. */
function journaledPostedStore(posted: PostedEngagementStore, journal: WorkerJournal): PostedEngagementStore {
  return {
    wasPosted: (destination, webhookEventId) => posted.wasPosted(destination, webhookEventId),
    async remember(destination, webhookEventId, now) {
      try {
        await posted.remember(destination, webhookEventId, now);
      } catch (error) {
        const { postsNotRemembered } = journal;
        postsNotRemembered.set(webhookEventId, (postsNotRemembered.get(webhookEventId) ?? 0) + 1);
        throw error;
      }
    },
  };
}

/**
 * One worker instance's real dependencies (clients, token cache, rate limiter), its store wrapped to crash on
 * schedule and its posted-events store journaled.
 */
export function crashingWorkerDeps(config: WorkerConfig, dynamo: DynamoDBClient, journal: WorkerJournal): SyncDeps {
  const deps = buildSyncDeps(config, dynamo);
  return {
    ...deps,
    store: new CrashingUserRecordStore(deps.store, journal),
    engagement: { posted: journaledPostedStore(deps.engagement.posted, journal) },
  };
}
