/**
 * One invocation of the backfill job: page LINE's follower ids from the job's cursor and register the
 * followers the table does not know, in bulk, until the invocation's deadline; then hand over to the next
 * invocation (a continuation tick). The cursor and counters live in DynamoDB (BackfillJobStore), so a
 * crash or a timeout only redoes part of one page, and a redone follower costs no Capillary call.
 */
import { CapillaryUnavailableError } from '../capillary/errors';
import { addCounters, cursorExpired, ZERO_COUNTERS, type BackfillCounters } from '../domain/backfill-rules';
import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from '../line/errors';
import { insightDate, type FollowerPage, type LineFollowersClient } from '../line/follower-pages';
import { countForChannel, logger } from '../observability/telemetry';
import type { BackfillTickMessage as BackfillTick } from '../queue/backfill-ticks';
import type { BackfillJob, BackfillJobStore } from '../store/backfill-job-store';
import { HeldJob } from './held-job';
import { registerBatch, type BatchDeps, type BatchSettings } from './register-batch';

export interface BackfillSettings extends BatchSettings {
  batchSize: number;
  /** at the job's share of the budget: the ETA's basis */
  followersPerHour: number;
}

export interface BackfillDeps extends BatchDeps {
  jobs: BackfillJobStore;
  followers: LineFollowersClient;
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

/** The deadline came: the next invocation goes on (a page left unfinished is redone from its start). */
const GO_ON: TickResult = { next: true, delaySeconds: 0 };
/** A checkpoint found the job cancelled or held by another invocation: stop without committing more. */
const STOPPED: TickResult = { next: false, status: 'stopped (cancelled, or taken over)' };

export async function runBackfillTick(
  tick: BackfillTick,
  deps: BackfillDeps,
  deadlineAt: number,
  owner: string,
): Promise<TickResult> {
  const acquired = await deps.jobs.acquire(tick.channel, tick.jobId, owner, deadlineAt + BATCH_RESERVE_MS, Date.now());
  if (acquired === undefined) {
    logger.info('Backfill tick ignored: the job is not running, or another invocation holds it', { ...tick });
    return { next: false, status: 'not-acquired' };
  }
  try {
    return await followPages(new HeldJob(deps.jobs, tick, owner, acquired), deps, deadlineAt);
  } catch (error) {
    if (error instanceof CapillaryUnavailableError) {
      logger.warn('Capillary unavailable or no budget left in this invocation: the next one redoes the page', {
        ...tick,
        error: error.message,
      });
      return { next: true, delaySeconds: error.attempts === 0 ? 0 : UNAVAILABLE_PAUSE_SECONDS };
    }
    throw error;
  } finally {
    await deps.jobs.release(tick.channel, tick.jobId, owner);
  }
}

async function followPages(held: HeldJob, deps: BackfillDeps, deadlineAt: number): Promise<TickResult> {
  const { tick } = held;
  if (held.job.followersPerHour === undefined) {
    const estimate = await estimateFollowers(deps.followers);
    if (!(await held.checkpoint({ estimatedFollowers: estimate, followersPerHour: deps.settings.followersPerHour })))
      return STOPPED;
  }
  while (Date.now() < deadlineAt - BATCH_RESERVE_MS) {
    if (cursorExpired(held.job.cursorIssuedAt, Date.now())) {
      logger.warn(
        'Backfill cursor older than 24 h: starting again from the first page (known followers cost nothing)',
        {
          ...tick,
        },
      );
      if (!(await held.restartListing())) return STOPPED;
    }
    const read = await readPage(held.job.cursor, deps.followers);
    if (read.kind === 'cursor-rejected') {
      logger.warn('LINE rejected the backfill cursor: starting again from the first page', { ...tick });
      if (!(await held.restartListing())) return STOPPED;
      continue;
    }
    if (read.kind === 'failed') {
      if (!(await held.checkpoint({ status: 'failed', message: read.message }))) return STOPPED;
      logger.error('Backfill failed', { ...tick, error: read.message });
      return { next: false, status: 'failed' };
    }
    const outcome = await registerPage(held, read.page, deps, deadlineAt);
    if (outcome !== 'next-page') return outcome;
  }
  return GO_ON;
}

type PageRead =
  | { kind: 'page'; page: FollowerPage }
  | { kind: 'cursor-rejected' }
  /** retrying cannot fix it: the job fails at once with the cause, rather than after maxReceiveCount invocations */
  | { kind: 'failed'; message: string };

async function readPage(cursor: string | undefined, followers: LineFollowersClient): Promise<PageRead> {
  try {
    return { kind: 'page', page: await followers.page(cursor) };
  } catch (error) {
    if (error instanceof FollowerCursorRejectedError) return { kind: 'cursor-rejected' };
    if (error instanceof FollowerListUnavailableError) return { kind: 'failed', message: error.message };
    if (error instanceof LineApiError && error.status === 401) {
      const fix = 'the channel access token was refused; fix LINE_CHANNEL_ACCESS_TOKEN (SSM) and start again';
      return { kind: 'failed', message: `${error.message}: ${fix}` };
    }
    throw error;
  }
}

/** The page's followers batch by batch, each checkpointed; then the page is committed with the next cursor. */
async function registerPage(
  held: HeldJob,
  page: FollowerPage,
  deps: BackfillDeps,
  deadlineAt: number,
): Promise<TickResult | 'next-page'> {
  const { tick } = held;
  const { channel } = tick;
  const snapshotAt = Date.now();
  const { batchSize } = deps.settings;
  // A page is redone from its start after an interruption: its counters are recounted, calls carried over.
  let pageCounters: BackfillCounters = { ...ZERO_COUNTERS, capillaryCalls: held.job.pageCounters.capillaryCalls };
  for (let start = 0; start < page.userIds.length; start += batchSize) {
    if (Date.now() >= deadlineAt - BATCH_RESERVE_MS) return GO_ON;
    const batch = page.userIds.slice(start, start + batchSize);
    pageCounters = addCounters(
      pageCounters,
      await registerBatch(batch, listingId(held.job), snapshotAt, deps, deadlineAt),
    );
    if (!(await held.checkpoint({ pageCounters }))) return STOPPED;
  }
  const counters = addCounters(held.job.counters, { ...pageCounters, pages: 1 });
  const done = page.next === undefined;
  const committed = await held.checkpoint({
    cursor: page.next,
    cursorIssuedAt: snapshotAt,
    counters,
    pageCounters: ZERO_COUNTERS,
    ...(done ? { status: 'completed' as const } : {}),
  });
  if (!committed) return STOPPED;
  countForChannel('BackfillFollowersSeen', channel, pageCounters.idsSeen);
  if (!done) return 'next-page';
  logger.info('Backfill completed', { ...tick, ...counters });
  return { next: false, status: 'completed' };
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
