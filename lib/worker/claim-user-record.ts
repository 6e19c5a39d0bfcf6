import type { Logger } from '@aws-lambda-powertools/logger';

import { admission, type LineEventFacts, type UserSyncState } from '../domain/sync-rules';
import { countForChannel } from '../observability/telemetry';
import { ClaimHeldError } from '../store/errors';
import type { AppliedChange, LineUserKey, UserRecordStore } from '../store/ports';

/**
 * An event the user's record refuses: the same event again, or overtaken by a newer one; or, in a lane that claims
 * only users with no customer (domain/sync-rules CLAIMS_ONLY_UNREGISTERED), a user who has one now.
 */
export type Skipped = { result: 'skipped'; reason: 'duplicate' | 'stale' | 'registered' };

/** An event holding its user's record: the kind of work it is for does its part, then completes it. */
export interface ClaimedEvent {
  key: LineUserKey;
  event: LineEventFacts;
  /** the record as it was before this claim */
  state: UserSyncState;
  /** Records what the event applied and releases the claim (putting back another lane's claim it took over). */
  complete(change: Omit<AppliedChange, 'restoreClaim'>): Promise<void>;
}

/**
 * Claims the user's record for this event, or says why it is skipped (duplicate, stale). Every event
 * that changes anything for a user goes through here, so one user's changes apply in order, once.
 */
export async function claimUserRecord(
  key: LineUserKey,
  event: LineEventFacts,
  store: UserRecordStore,
  channel: string,
  log: Logger,
): Promise<{ claimed: ClaimedEvent } | { skipped: Skipped }> {
  const now = Date.now();
  const claim = await store.claim(key, event, now);
  const verdict = claim.claimed ? 'apply' : admission(event, claim.state, now);
  if (verdict === 'registered') return { skipped: { result: 'skipped', reason: verdict } };
  if (verdict === 'duplicate' || verdict === 'stale') {
    countForChannel(verdict === 'duplicate' ? 'EventSkippedDuplicate' : 'EventSkippedStale', channel);
    log.info(`Event skipped as ${verdict}: not newer than the last applied event for this user`, {
      eventTimestamp: event.timestamp,
      lastAppliedTimestamp: claim.state.lastEventTimestamp,
    });
    return { skipped: { result: 'skipped', reason: verdict } };
  }
  // Refused although the rule says apply: the record changed in between (a claim came and went). Retry.
  if (!claim.claimed) throw new ClaimHeldError(event.webhookEventId, claim.state.pendingEventId);
  log.info('Event claimed');
  const { state, takenOver } = claim;
  return {
    claimed: {
      key,
      event,
      state,
      complete: (change) => store.complete(key, event, { ...change, restoreClaim: takenOver }),
    },
  };
}
