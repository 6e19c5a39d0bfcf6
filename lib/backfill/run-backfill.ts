/**
 * One invocation of the backfill job: page LINE's follower ids from the job's cursor and register the
 * followers the table does not know, in bulk, until the invocation's deadline; then hand over to the next
 * invocation (a continuation tick). The cursor and counters live in DynamoDB (BackfillJobStore), so a
 * crash or a timeout only redoes part of one page, and a redone follower costs no Capillary call.
 */
import type { BulkRecordOutcome, LineBulkRegistrar } from '../capillary/bulk-upsert';
import type { LineCustomerDirectory } from '../capillary/customer-directory';
import { CapillaryUnavailableError } from '../capillary/errors';
import {
  addCounters,
  backfillVerdict,
  cursorExpired,
  syntheticFollow,
  ZERO_COUNTERS,
  type BackfillCounters,
} from '../domain/backfill-rules';
import type { LineEventFacts } from '../domain/sync-rules';
import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from '../line/errors';
import { insightDate, type LineFollowersClient } from '../line/follower-pages';
import { countForChannel, logger, maskUserId } from '../observability/telemetry';
import type { BackfillTickMessage as BackfillTick } from '../queue/backfill-ticks';
import type { SyntheticEvent, SyntheticEventSender } from '../queue/synthetic-events';
import type { BackfillJob, BackfillJobStore } from '../store/backfill-job-store';
import { ClaimLostError } from '../store/errors';
import type { UserSyncStore } from '../store/user-sync-store';

export interface BackfillSettings {
  batchSize: number;
  /** attempts per rejected record, the first bulk call included; then the DLQ */
  recordMaxAttempts: number;
  /** at the job's share of the budget: the ETA's basis */
  followersPerHour: number;
}

export interface BackfillDeps {
  jobs: BackfillJobStore;
  users: UserSyncStore;
  followers: LineFollowersClient;
  registrar: LineBulkRegistrar;
  /** for the opt-in when an org ignored the inline one */
  customers: LineCustomerDirectory;
  /** the events queue: followers handed to the ordered pipeline */
  pipeline: SyntheticEventSender;
  /** the events DLQ: records Capillary kept rejecting, with the reason */
  deadLetters: SyntheticEventSender;
  /** the bot's user id: the `destination` part of the user records */
  destination: string;
  settings: BackfillSettings;
}

export type TickResult =
  /** the job goes on: send the next tick (after `delaySeconds`) */
  | { next: true; delaySeconds: number }
  /** finished, failed, cancelled, or taken by another invocation: no next tick */
  | { next: false; status: string };

/** Time kept back per batch: the bulk call and the record writes must end before the deadline. */
const BATCH_RESERVE_MS = 15_000;
/** After Capillary stayed unavailable: the next invocation waits this long. */
const UNAVAILABLE_PAUSE_SECONDS = 60;

/** Stops the tick without committing the page; the next invocation redoes it. */
class TickInterrupted extends Error {
  constructor(public readonly result: TickResult) {
    super('tick interrupted');
  }
}

export async function runBackfillTick(
  tick: BackfillTick,
  deps: BackfillDeps,
  deadlineAt: number,
  owner: string,
): Promise<TickResult> {
  const { jobs, followers } = deps;
  const acquired = await jobs.acquire(tick.channel, tick.jobId, owner, deadlineAt + BATCH_RESERVE_MS, Date.now());
  if (acquired === undefined) {
    logger.info('Backfill tick ignored: the job is not running, or another invocation holds it', { ...tick });
    return { next: false, status: 'not-acquired' };
  }
  let job: BackfillJob = acquired;
  const { channel } = tick;
  const checkpoint = async (patch: Parameters<BackfillJobStore['checkpoint']>[3]): Promise<BackfillJob> => {
    const updated = await jobs.checkpoint(tick.channel, tick.jobId, owner, patch, Date.now());
    if (updated === undefined) throw new TickInterrupted({ next: false, status: 'stopped (cancelled, or taken over)' });
    job = updated;
    return updated;
  };

  try {
    if (job.followersPerHour === undefined) {
      await checkpoint({
        estimatedFollowers: await estimateFollowers(followers),
        followersPerHour: deps.settings.followersPerHour,
      });
    }
    while (Date.now() < deadlineAt - BATCH_RESERVE_MS) {
      if (cursorExpired(job.cursorIssuedAt, Date.now())) {
        logger.warn(
          'Backfill cursor older than 24 h: starting again from the first page (known followers cost nothing)',
          { ...tick },
        );
        await checkpoint({ cursor: undefined, restarts: job.restarts + 1 });
      }
      let page;
      try {
        page = await followers.page(job.cursor);
      } catch (error) {
        if (error instanceof FollowerCursorRejectedError) {
          logger.warn('LINE rejected the backfill cursor: starting again from the first page', { ...tick });
          await checkpoint({ cursor: undefined, restarts: job.restarts + 1 });
          continue;
        }
        // Retrying cannot fix these: fail the job at once with the cause, rather than after maxReceiveCount invocations.
        const permanent =
          error instanceof FollowerListUnavailableError
            ? error.message
            : error instanceof LineApiError && error.status === 401
              ? `${error.message}: the channel access token was refused; fix LINE_CHANNEL_ACCESS_TOKEN (SSM) and start again`
              : undefined;
        if (permanent !== undefined) {
          await checkpoint({ status: 'failed', message: permanent });
          logger.error('Backfill failed', { ...tick, error: permanent });
          return { next: false, status: 'failed' };
        }
        throw error;
      }
      const snapshotAt = Date.now();
      // A page is redone from its start after an interruption: its counters are recounted, calls carried over.
      let pageCounters: BackfillCounters = { ...ZERO_COUNTERS, capillaryCalls: job.pageCounters.capillaryCalls };
      for (let start = 0; start < page.userIds.length; start += deps.settings.batchSize) {
        if (Date.now() >= deadlineAt - BATCH_RESERVE_MS) throw new TickInterrupted({ next: true, delaySeconds: 0 });
        const batch = page.userIds.slice(start, start + deps.settings.batchSize);
        pageCounters = addCounters(
          pageCounters,
          await syncFollowers(batch, listingId(job), snapshotAt, deps, deadlineAt),
        );
        await checkpoint({ pageCounters });
      }
      const counters = addCounters(job.counters, { ...pageCounters, pages: 1 });
      const done = page.next === undefined;
      await checkpoint({
        cursor: page.next,
        cursorIssuedAt: snapshotAt,
        counters,
        pageCounters: ZERO_COUNTERS,
        ...(done ? { status: 'completed' as const } : {}),
      });
      countForChannel('BackfillFollowersSeen', channel, pageCounters.idsSeen);
      if (done) {
        logger.info('Backfill completed', { ...tick, ...counters });
        return { next: false, status: 'completed' };
      }
    }
    return { next: true, delaySeconds: 0 };
  } catch (error) {
    if (error instanceof TickInterrupted) return error.result;
    if (error instanceof CapillaryUnavailableError) {
      logger.warn('Capillary unavailable or no budget left in this invocation: the next one redoes the page', {
        ...tick,
        error: error.message,
      });
      return { next: true, delaySeconds: error.attempts === 0 ? 0 : UNAVAILABLE_PAUSE_SECONDS };
    }
    throw error;
  } finally {
    await jobs.release(tick.channel, tick.jobId, owner);
  }
}

/**
 * One pass over the follower list: a page redone after an interruption is the same pass (its followers are
 * recognised as done by this pass), a listing started again after an expired cursor is a new one.
 */
const listingId = (job: BackfillJob): string => `${job.jobId}:${job.restarts}`;

/** `followers − blocks` of yesterday (an upper bound of current friends), or undefined when LINE has no count yet. */
async function estimateFollowers(followers: LineFollowersClient): Promise<number | undefined> {
  try {
    const counts = await followers.followerCounts(insightDate(Date.now()));
    if (counts.status !== 'ready' || counts.followers === undefined) return undefined;
    return Math.max(0, counts.followers - (counts.blocks ?? 0));
  } catch (error) {
    logger.warn('LINE follower counts unavailable: the backfill shows no ETA', { error: (error as Error).message });
    return undefined;
  }
}

interface Claimed {
  userId: string;
  facts: LineEventFacts;
}

/**
 * One batch of follower ids through the per-user record: known ones cost nothing, the rest are claimed
 * (the live pipeline's rule), upserted in one bulk call, and recorded; rejected records are retried one
 * by one, then go to the DLQ.
 */
async function syncFollowers(
  userIds: string[],
  listing: string,
  snapshotAt: number,
  deps: BackfillDeps,
  deadlineAt: number,
): Promise<Partial<BackfillCounters>> {
  const counters: BackfillCounters = { ...ZERO_COUNTERS, idsSeen: userIds.length };
  const keyOf = (userId: string) => ({ destination: deps.destination, userId });
  const handOver: SyntheticEvent[] = [];
  const tally = (userId: string, facts: LineEventFacts, verdict: ReturnType<typeof backfillVerdict>): boolean => {
    if (verdict === 'known') counters.alreadyKnown += 1;
    else if (verdict === 'applied-by-this-job') {
      counters.registered += 1;
      counters.optedIn += 1;
    } else if (verdict === 'deferred') {
      counters.deferred += 1;
      handOver.push({
        facts: { ...facts, type: 'follow', userId },
        reason: 'backfill: a live event for this user was in flight',
      });
    }
    return verdict === 'register';
  };

  const now = Date.now();
  const states = await Promise.all(userIds.map((userId) => deps.users.read(keyOf(userId))));
  const candidates = userIds
    .map((userId) => ({ userId, facts: syntheticFollow(listing, userId, snapshotAt) }))
    .filter(({ userId, facts }, index) => tally(userId, facts, backfillVerdict(facts, states[index], now)));

  const call = { deadlineAt };
  // The budget first: a claim is held only for the call itself, never while waiting for tokens.
  if (candidates.length > 0) await deps.registrar.reserve(candidates.length, call);
  const claimed: Claimed[] = [];
  await Promise.all(
    candidates.map(async (candidate) => {
      const claim = await deps.users.claim(keyOf(candidate.userId), candidate.facts);
      if (claim.claimed) return void claimed.push(candidate);
      // Refused: the record changed since it was read. "register" again means a claim came and went: hand it over.
      const verdict = backfillVerdict(candidate.facts, claim.state, Date.now());
      tally(candidate.userId, candidate.facts, verdict === 'register' ? 'deferred' : verdict);
    }),
  );

  let pending = claimed;
  for (let attempt = 1; pending.length > 0 && attempt <= deps.settings.recordMaxAttempts; attempt++) {
    // First attempt: one call for the batch; then each rejected record on its own, so one bad record fails alone.
    const groups = attempt === 1 ? [pending] : pending.map((record) => [record]);
    const rejected: { record: Claimed; outcome: BulkRecordOutcome }[] = [];
    for (const [groupIndex, group] of groups.entries()) {
      if (attempt > 1 || groupIndex > 0) await deps.registrar.reserve(group.length, call);
      const outcomes = await deps.registrar.upsert(
        group.map(({ userId }) => userId),
        call,
      );
      counters.capillaryCalls += 1;
      for (const [index, outcome] of outcomes.entries()) {
        const record = group[index] as Claimed;
        if (!outcome.ok) {
          rejected.push({ record, outcome });
          continue;
        }
        const customerId = outcome.customerId as number;
        if (!outcome.subscribed) {
          await deps.customers.setSubscription(customerId, 'OPTIN', call);
          counters.capillaryCalls += 1;
        }
        try {
          await deps.users.complete(keyOf(record.userId), record.facts, { customerId, subscription: 'OPTIN' });
        } catch (error) {
          if (!(error instanceof ClaimLostError)) throw error;
          // The claim expired and a newer live event took the record over: that event wins, and sets Capillary itself.
          logger.warn('Backfill claim taken over by a newer event before it was recorded', {
            user: maskUserId(record.userId),
          });
          counters.alreadyKnown += 1;
          continue;
        }
        counters.registered += 1;
        counters.optedIn += 1;
      }
    }
    if (attempt === deps.settings.recordMaxAttempts && rejected.length > 0) {
      // The claim stays (it expires): a redrive re-claims it as the same event; a newer live event takes over after expiry.
      await deps.deadLetters.send(
        rejected.map(({ record, outcome }) => ({
          facts: { ...record.facts, type: 'follow', userId: record.userId },
          reason:
            `backfill: Capillary rejected the record ${attempt} times: ${outcome.reason ?? 'unknown'} (codes ${outcome.codes.join(', ') || 'none'})` +
            (outcome.customerId === undefined ? '' : `; partly applied as customer ${outcome.customerId}`),
        })),
      );
      counters.failed += rejected.length;
      for (const { record, outcome } of rejected) {
        logger.warn('Backfill record rejected by Capillary; sent to the DLQ', {
          user: maskUserId(record.userId),
          codes: outcome.codes,
          reason: outcome.reason,
        });
      }
    }
    pending = rejected.map(({ record }) => record);
  }
  await deps.pipeline.send(handOver);
  return counters;
}
