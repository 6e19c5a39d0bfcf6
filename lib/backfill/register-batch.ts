/**
 * One batch of follower ids through the per-user record: known ones cost nothing, the rest are claimed
 * (the live pipeline's rule), upserted in one bulk call with their LINE display names (the customer a live
 * follow would make), and recorded; rejected records are retried one by one, then go to the DLQ.
 */
import type { BulkRecordOutcome, LineBulkRegistrar } from '../capillary/bulk-upsert';
import type { LineCustomerDirectory } from '../capillary/customer-directory';
import type { CallOptions } from '../capillary/http-client';
import { backfillVerdict, syntheticFollow, ZERO_COUNTERS, type BackfillCounters } from '../domain/backfill-rules';
import type { LineEventFacts } from '../domain/sync-rules';
import type { LineProfileClient } from '../line/profile-client';
import { logger, maskUserId } from '../observability/telemetry';
import type { SyntheticEvent, SyntheticEventSender } from '../queue/synthetic-events';
import { ClaimLostError } from '../store/errors';
import type { LineUserKey, UserSyncStore } from '../store/user-sync-store';
import { deadLetter, type Rejected } from './dead-letters';

export interface BatchSettings {
  /** attempts per rejected record, the first bulk call included; then the DLQ */
  recordMaxAttempts: number;
}

export interface BatchDeps {
  users: UserSyncStore;
  registrar: LineBulkRegistrar;
  /** for the opt-in when an org ignored the inline one */
  customers: LineCustomerDirectory;
  /** display names, as a live follow's registration carries them */
  profiles: Pick<LineProfileClient, 'lookup'>;
  /** the events queue: followers handed to the ordered pipeline */
  pipeline: SyntheticEventSender;
  /** the events DLQ: records Capillary kept rejecting, with the reason */
  deadLetters: SyntheticEventSender;
  /** the bot's user id: the `destination` part of the user records */
  destination: string;
  /** the channel and its Capillary org, written with the customer ids (store/customer-index) */
  recordOwner?: LineUserKey['owner'];
  settings: BatchSettings;
}

export interface Claimed {
  userId: string;
  facts: LineEventFacts;
}

type Verdict = ReturnType<typeof backfillVerdict>;

/** One batch's counters, and the followers handed over to the ordered pipeline. */
class BatchTally {
  readonly counters: BackfillCounters;
  readonly handOver: SyntheticEvent[] = [];

  constructor(idsSeen: number) {
    this.counters = { ...ZERO_COUNTERS, idsSeen };
  }

  /** Counts what the verdict settled; true when the follower is still to be registered. */
  settle(userId: string, facts: LineEventFacts, verdict: Verdict): boolean {
    if (verdict === 'known') this.counters.alreadyKnown += 1;
    else if (verdict === 'applied-by-this-job') this.registered();
    else if (verdict === 'deferred') {
      this.counters.deferred += 1;
      this.handOver.push({
        facts: { ...facts, type: 'follow', userId },
        reason: 'backfill: a live event for this user was in flight',
      });
    }
    return verdict === 'register';
  }

  registered(): void {
    this.counters.registered += 1;
    this.counters.optedIn += 1;
  }
}

export async function registerBatch(
  userIds: string[],
  listing: string,
  snapshotAt: number,
  deps: BatchDeps,
  deadlineAt: number,
): Promise<Partial<BackfillCounters>> {
  const tally = new BatchTally(userIds.length);
  const call = { deadlineAt };
  const claimed = await claimUnknown(userIds, listing, snapshotAt, deps, tally, call);
  await upsertClaimed(claimed, deps, tally, call);
  await deps.pipeline.send(tally.handOver);
  return tally.counters;
}

/** The followers the table does not know, claimed as this listing's synthetic follow. */
async function claimUnknown(
  userIds: string[],
  listing: string,
  snapshotAt: number,
  deps: BatchDeps,
  tally: BatchTally,
  call: CallOptions,
): Promise<Claimed[]> {
  const now = Date.now();
  const states = await Promise.all(userIds.map((userId) => deps.users.read(keyOf(deps, userId))));
  const candidates = userIds
    .map((userId) => ({ userId, facts: syntheticFollow(listing, userId, snapshotAt) }))
    .filter(({ userId, facts }, index) => tally.settle(userId, facts, backfillVerdict(facts, states[index], now)));
  // The budget first: a claim is held only for the call itself, never while waiting for tokens.
  if (candidates.length > 0) await deps.registrar.reserve(candidates.length, call);
  const claimed: Claimed[] = [];
  await Promise.all(
    candidates.map(async (candidate) => {
      const claim = await deps.users.claim(keyOf(deps, candidate.userId), candidate.facts);
      if (claim.claimed) return void claimed.push(candidate);
      // Refused: the record changed since it was read. "register" again means a claim came and went: hand it over.
      const verdict = backfillVerdict(candidate.facts, claim.state, Date.now());
      tally.settle(candidate.userId, candidate.facts, verdict === 'register' ? 'deferred' : verdict);
    }),
  );
  return claimed;
}

/** One bulk call for the batch, then each rejected record on its own, so one bad record fails alone; then the DLQ. */
async function upsertClaimed(claimed: Claimed[], deps: BatchDeps, tally: BatchTally, call: CallOptions): Promise<void> {
  const { recordMaxAttempts } = deps.settings;
  const displayNames = await displayNamesOf(claimed, deps.profiles);
  let pending = claimed;
  for (let attempt = 1; pending.length > 0 && attempt <= recordMaxAttempts; attempt++) {
    const groups = attempt === 1 ? [pending] : pending.map((record) => [record]);
    const rejected: Rejected[] = [];
    for (const [groupIndex, group] of groups.entries()) {
      if (attempt > 1 || groupIndex > 0) await deps.registrar.reserve(group.length, call);
      const outcomes = await deps.registrar.upsert(
        group.map(({ userId }) => userId),
        call,
        displayNames,
      );
      tally.counters.capillaryCalls += 1;
      for (const [index, outcome] of outcomes.entries()) {
        const record = group[index] as Claimed;
        if (outcome.ok) await recordUpserted(record, outcome, deps, tally, call);
        else rejected.push({ record, outcome });
      }
    }
    if (attempt === recordMaxAttempts && rejected.length > 0) {
      await deadLetter(rejected, attempt, deps.deadLetters);
      tally.counters.failed += rejected.length;
    }
    pending = rejected.map(({ record }) => record);
  }
}

/** The LINE display names of these followers, where LINE gives them (a lookup never fails the batch). */
async function displayNamesOf(
  claimed: Claimed[],
  profiles: BatchDeps['profiles'],
): Promise<ReadonlyMap<string, string>> {
  const names = new Map<string, string>();
  await Promise.all(
    claimed.map(async ({ userId }) => {
      const profile = await profiles.lookup(userId);
      if (profile.found) names.set(userId, profile.displayName);
    }),
  );
  return names;
}

/** Opts the customer in when the org ignored the inline opt-in, then completes the claim. */
async function recordUpserted(
  record: Claimed,
  outcome: BulkRecordOutcome,
  deps: BatchDeps,
  tally: BatchTally,
  call: CallOptions,
): Promise<void> {
  const customerId = outcome.customerId as number;
  if (!outcome.subscribed) {
    await deps.customers.setSubscription(customerId, 'OPTIN', call);
    tally.counters.capillaryCalls += 1;
  }
  try {
    await deps.users.complete(keyOf(deps, record.userId), record.facts, { customerId, subscription: 'OPTIN' });
  } catch (error) {
    if (!(error instanceof ClaimLostError)) throw error;
    // The claim expired and a newer live event took the record over: that event wins, and sets Capillary itself.
    logger.warn('Backfill claim taken over by a newer event before it was recorded', {
      user: maskUserId(record.userId),
    });
    tally.counters.alreadyKnown += 1;
    return;
  }
  tally.registered();
}

const keyOf = (deps: BatchDeps, userId: string) => ({ destination: deps.destination, userId, owner: deps.recordOwner });
