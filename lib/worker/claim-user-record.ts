import { admission, type LineEventFacts, type UserSyncState } from '../domain/sync-rules';
import { countForChannel, logger, maskUserId } from '../observability/telemetry';
import { ClaimHeldError } from '../store/errors';
import type { LineUserKey, TakenOverClaim, UserSyncStore } from '../store/user-sync-store';

/** An event the user's record refuses: the same event again, or overtaken by a newer one. */
export type Skipped = { result: 'skipped'; reason: 'duplicate' | 'stale' };

/**
 * Claims the user's record for this event, or says why it is skipped (duplicate, stale). Every event
 * that changes anything for a user goes through here, so one user's changes apply in order, once.
 */
export async function claimUserRecord(
  key: LineUserKey,
  facts: LineEventFacts,
  store: UserSyncStore,
  channel: string,
): Promise<{ state: UserSyncState; takenOver?: TakenOverClaim } | { skipped: Skipped }> {
  const log = { channel, eventId: facts.webhookEventId, type: facts.type, user: maskUserId(facts.userId) };
  const now = Date.now();
  const claim = await store.claim(key, facts, now);
  const verdict = claim.claimed ? 'apply' : admission(facts, claim.state, now);
  if (verdict === 'duplicate' || verdict === 'stale') {
    countForChannel(verdict === 'duplicate' ? 'EventSkippedDuplicate' : 'EventSkippedStale', channel);
    logger.info(`Event skipped as ${verdict}: not newer than the last applied event for this user`, {
      ...log,
      eventTimestamp: facts.timestamp,
      lastAppliedTimestamp: claim.state.lastEventTimestamp,
    });
    return { skipped: { result: 'skipped', reason: verdict } };
  }
  // Refused although the rule says apply: the record changed in between (a claim came and went). Retry.
  if (!claim.claimed) throw new ClaimHeldError(facts.webhookEventId, claim.state.pendingEventId);
  logger.info('Event claimed', log);
  return { state: claim.state, takenOver: claim.takenOver };
}
