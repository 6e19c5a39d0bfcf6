import type { Logger } from '@aws-lambda-powertools/logger';

import type { CustomerDirectory } from '../../capillary/customer-directory';
import { CustomerGoneError } from '../../capillary/errors';
import { replacementAfter } from '../../domain/identity-rules';
import { landedOnPendingMember } from '../../domain/link-rules';
import { decide, keepsForgotten, type SyncDecision } from '../../domain/sync-decision';
import type { SubscriptionState } from '../../domain/sync-rules';
import type { LineProfileClient } from '../../line/profile-client';
import { countForChannel } from '../../observability/telemetry';
import type { AppliedChange } from '../../store/ports';
import type { ClaimedEvent } from '../claim-user-record';
import { joinLinkedMember, settleWaitingLink, type MemberSyncChannel } from './join-linked-member';
import { registerFollower } from './register-follower';

/** What a follow or unfollow syncs with: the channel's LINE profiles and its account in its Capillary org. */
export interface SyncChannel {
  id: string;
  customers: CustomerDirectory;
  profiles: LineProfileClient;
}

export type SyncOutcome = {
  result: 'applied';
  action: SyncDecision['action'];
  customerId?: number;
  subscription: SubscriptionState;
  /** the linked member, when the event found the one recorded gone: its merge survivor, or null (unlinked) */
  linkedCustomerId?: number | null;
};

/**
 * A claimed follow or unfollow → at most one change of the user's Capillary state: act on Capillary as
 * domain/sync-rules decides, then record what was applied. A throw leaves the claim to be resumed by the retry.
 */
export async function syncLineEvent(
  claimed: ClaimedEvent,
  channel: MemberSyncChannel,
  log: Logger,
  call: { deadlineAt: number },
): Promise<SyncOutcome> {
  const { key, event, state, complete } = claimed;
  const decision = decide(event, state, channel.customers.defersRegistration);
  let customerId: number | undefined;
  let gone: Awaited<ReturnType<typeof reResolve>> | undefined;
  let deleted: number | undefined;
  let waiting: Awaited<ReturnType<typeof settleWaitingLink>> = {};
  switch (decision.action) {
    case 'register':
      // A link waiting for its merge request leaves the LINE id on the anonymous customer: the follow registers with
      // it (the merge, if approved, moves it), never onto the member, which would split the LINE id in two.
      if (state.linkedCustomerId !== undefined && state.link?.status !== 'merge-pending') {
        const joining = { userId: key.userId, memberId: state.linkedCustomerId, subscription: decision.subscription };
        customerId = await joinLinkedMember(channel, joining, log, call);
      }
      customerId ??= await registerFollower(channel, key.userId, decision.subscription, log, call);
      waiting = await settleWaitingLink(channel, state, customerId, call);
      break;
    case 'subscribe':
      customerId = decision.customerId;
      try {
        await channel.customers.setSubscription(customerId, decision.subscription, call);
      } catch (error) {
        if (!(error instanceof CustomerGoneError)) throw error;
        if (error.deleted) deleted = error.customerId;
        gone = await reResolve(claimed, channel, decision.subscription, error, log, call);
        customerId = gone.customerId ?? undefined;
      }
      break;
    case 'record':
      break;
    case 'resolve-then-subscribe':
      // An unfollow is never lost: opt out the customer carrying this channel's profile if Capillary has one, else
      // remember the state (the person's customer without this account's profile is not opted out on it).
      customerId = await channel.customers.findProfileHolder(key.userId, call);
      if (customerId !== undefined) await channel.customers.setSubscription(customerId, decision.subscription, call);
      break;
  }
  // A follow after the user was forgotten is a new consent, and so was whatever put them on the customer an unfollow
  // found: the mark goes (domain/sync-decision keepsForgotten).
  const consentAgain =
    state.forgottenAt !== undefined &&
    !keepsForgotten(event, state) &&
    (event.type === 'follow' || customerId !== undefined);
  // A replacement of a customer deleted on a PII request waits for the deletion's notice (domain/identity-rules).
  const replaced = replacementAfter(event, state, { customerId, deleted });
  await complete({
    customerId,
    subscription: decision.subscription,
    ...gone,
    ...waiting,
    ...(consentAgain ? { forgottenAt: null } : {}),
    ...(replaced === undefined ? {} : { replaced }),
  });
  countForChannel('EventApplied', channel.id);
  log.info('Event applied and recorded', { action: decision.action, subscription: decision.subscription, customerId });
  const relinked = gone?.linkedCustomerId === undefined ? {} : { linkedCustomerId: gone.linkedCustomerId };
  return { result: 'applied', action: decision.action, customerId, subscription: decision.subscription, ...relinked };
}

/**
 * The record's customer is gone in Capillary (merged away, deleted): retrying cannot help. The user is
 * looked up again by the LINE identifier and the event applied there; nobody found, it applies as for an
 * unknown user (a follow registers, an unfollow is recorded). The record is re-pointed either way.
 */
async function reResolve(
  { key, event, state }: ClaimedEvent,
  channel: SyncChannel,
  subscription: SubscriptionState,
  gone: CustomerGoneError,
  log: Logger,
  call: { deadlineAt: number },
): Promise<Pick<AppliedChange, 'customerId' | 'linkedCustomerId' | 'link' | 'linkRefs'>> {
  countForChannel('CustomerReResolved', channel.id);
  const found = await channel.customers.findProfileHolder(key.userId, call);
  let customerId: number | null = null;
  if (found !== undefined && found !== gone.customerId) {
    await channel.customers.setSubscription(found, subscription, call);
    customerId = found;
  } else if (event.type === 'follow' && !channel.customers.defersRegistration) {
    customerId = await registerFollower(channel, key.userId, subscription, log, call);
  }
  log.info('Customer gone in Capillary; the user was looked up again', {
    goneCustomerId: gone.customerId,
    codes: gone.codes,
    customerId,
  });
  // The anonymous customer a merge-pending link asked to merge is gone into the member: the request was approved.
  if (landedOnPendingMember(state, customerId)) return { customerId, link: { status: 'linked', at: Date.now() } };
  if (state.linkedCustomerId !== gone.customerId) return { customerId };
  // A linked member merged away lives on in its survivor (it carries the profile); a deleted one leaves the user
  // unlinked, on the customer of their own just registered or found (an earlier attempt's), and the index entries go.
  return gone.merged && found !== undefined && customerId === found
    ? { customerId, linkedCustomerId: customerId }
    : { customerId, linkedCustomerId: null, link: { status: 'unlinked', at: Date.now() }, linkRefs: null };
}
