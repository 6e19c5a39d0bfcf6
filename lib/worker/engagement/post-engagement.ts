import type { Logger } from '@aws-lambda-powertools/logger';

import type { BehaviouralEventsClient } from '../../capillary/behavioural-events-client';
import type { EngagementPosting } from '../../config/engagement-config';
import { behaviouralEventBody } from '../../domain/behavioural-event-body';
import type { EngagementLineEvent, EngagementRule } from '../../domain/engagement-rules';
import type { LineEventFacts } from '../../domain/sync-rules';
import { countForChannel } from '../../observability/telemetry';
import type { LineUserKey, UserRecordStore } from '../../store/ports';
import type { PostedEngagementStore } from '../../store/posted-engagement-store';
import { claimUserRecord, type ClaimedEvent, type Skipped } from '../claim-user-record';
import { EngagementNotConfiguredError } from '../errors';
import { registerFollower } from '../sync/register-follower';
import type { SyncChannel } from '../sync/sync-line-event';

/** A channel's behavioural-events client (absent: the channel maps no engagement). */
export interface EngagementChannel extends SyncChannel {
  engagement?: { rules: readonly EngagementRule[]; client: BehaviouralEventsClient; posting: EngagementPosting };
}

export type EngagementOutcome = {
  result: 'engagement';
  event: string;
  /** what became of it: posted; refused by Capillary (bad input, acknowledged); posted before (a redelivery); no customer (on-link) */
  reason: 'posted' | 'refused' | 'already-posted' | 'unknown-user';
};

/**
 * An engagement event (engagement lane: never stale) → at most one Capillary behavioural event. A user who has a
 * customer is posted for without claiming their record: the post changes nothing the record keeps, so a flood of
 * taps never turns a follow or unfollow back on a held claim. Only a user with no customer yet claims the record,
 * because the tap may register them, and a follow on the events queue may be registering them at the same time.
 */
export async function postEngagement(
  { key, facts, store }: { key: LineUserKey; facts: LineEventFacts; store: UserRecordStore },
  engagement: { rule: EngagementRule; event: EngagementLineEvent },
  channel: EngagementChannel,
  steps: PostingSteps,
): Promise<EngagementOutcome | Skipped> {
  const { log } = steps;
  const customerId = (await store.read(key))?.customerId;
  if (customerId !== undefined) return postOnce(customerId, engagement, channel, { ...steps, key });
  // The claim is granted only while the user has no customer: a follow registering them meanwhile refuses it.
  const claim = await claimUserRecord(key, facts, store, channel.id, log);
  if (!('skipped' in claim)) return postClaimed(claim.claimed, engagement, channel, steps);
  return claim.skipped.reason === 'registered'
    ? postEngagement({ key, facts, store }, engagement, channel, steps)
    : claim.skipped;
}

interface PostingSteps {
  posted: PostedEngagementStore;
  log: Logger;
  call: { deadlineAt: number };
}

/**
 * The tap of a user with no customer, holding the user's record (granted only so): registered first unless a tap
 * is no consent here, then posted. A failed step releases the claim (releasingOnFailure).
 */
async function postClaimed(
  { key, state, complete }: ClaimedEvent,
  engagement: { rule: EngagementRule; event: EngagementLineEvent },
  channel: EngagementChannel,
  steps: PostingSteps,
): Promise<EngagementOutcome> {
  const { rule } = engagement;
  const { log, call } = steps;
  // A tap is no consent: registration waits for a link (on-link), and a forgotten user waits for a new follow.
  if (channel.customers.defersRegistration || state.forgottenAt !== undefined) {
    const waitsFor = channel.customers.defersRegistration ? 'a link' : 'a new follow';
    log.info('Engagement event of a user with no Capillary customer skipped', { eventName: rule.event, waitsFor });
    await complete({});
    countForChannel('EngagementSkippedUnknownUser', channel.id, 1, { event: rule.event });
    return { result: 'engagement', event: rule.event, reason: 'unknown-user' };
  }
  // With the subscription the record holds: a late tap of a user who blocked the account never opts them in.
  const subscription = state.subscription ?? 'OPTIN';
  const customerId = await releasingOnFailure(() => registerFollower(channel, key.userId, subscription, log, call), {
    complete,
    kept: {},
    log,
  });
  const outcome = await releasingOnFailure(() => postOnce(customerId, engagement, channel, { ...steps, key }), {
    complete,
    kept: { customerId },
    log,
  });
  await complete({ customerId });
  return outcome;
}

/**
 * Posts the event for this customer unless it was posted before. What was posted is remembered after the post, so a
 * redelivery or re-queue posts nothing; a crash between the post and the remembering posts again on the retry, and
 * the event's unique key (external_event_id) keeps Capillary from counting it twice (docs/engagement.md). Transient
 * failures throw: SQS retries, then the DLQ.
 */
async function postOnce(
  customerId: number,
  { rule, event }: { rule: EngagementRule; event: EngagementLineEvent },
  channel: EngagementChannel,
  { key, posted, log, call }: PostingSteps & { key: LineUserKey },
): Promise<EngagementOutcome> {
  const perEvent = { event: rule.event };
  const outcome = (reason: EngagementOutcome['reason']) => ({
    result: 'engagement' as const,
    event: rule.event,
    reason,
  });
  if (await posted.wasPosted(key.destination, event.webhookEventId)) {
    log.info('Engagement event already posted', { eventName: rule.event });
    countForChannel('EngagementAlreadyPosted', channel.id, 1, perEvent);
    return outcome('already-posted');
  }
  // The route matched this channel's rules: it has its client unless the configuration object was built by hand.
  if (channel.engagement === undefined) throw new EngagementNotConfiguredError(channel.id);
  const { client, posting } = channel.engagement;
  const body = behaviouralEventBody({
    rule,
    event,
    customerId,
    timeZone: posting.timeZone,
    customerField: posting.customerField,
  });
  const result = await client.post(body, call);
  if (result.outcome === 'refused') {
    log.warn('Capillary refused the engagement event; acknowledged', {
      eventName: rule.event,
      status: result.status,
      message: result.message,
      requestId: result.requestId,
    });
    countForChannel('EngagementRefused', channel.id, 1, perEvent);
    return outcome('refused');
  }
  await posted.remember(key.destination, event.webhookEventId);
  log.info('Engagement event posted', { eventName: rule.event, customerId, requestId: result.requestId });
  countForChannel('EngagementPosted', channel.id, 1, perEvent);
  return outcome('posted');
}

/**
 * A failed step releases the claim before the event is retried: this lane has its own queue, so a claim held until
 * it expires would stop the user's follows and unfollows on the events queue for every retry. What the event did
 * change (the customer it registered) is kept; the event is not recorded, and the retry starts over.
 */
async function releasingOnFailure<T>(
  step: () => Promise<T>,
  { complete, kept, log }: { complete: ClaimedEvent['complete']; kept: { customerId?: number }; log: Logger },
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    // Not releasable (DynamoDB, a claim already taken over): it expires instead; the step's error is what counts.
    await complete({ ...kept, recordEvent: false }).catch((releaseError: unknown) =>
      log.warn('Engagement claim not released; it expires', { error: releaseError }),
    );
    throw error;
  }
}
