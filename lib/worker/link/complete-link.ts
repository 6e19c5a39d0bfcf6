import {
  anonymousCustomerAction,
  nonceVerdict,
  subscriptionOnLink,
  type LinkRejection,
  type NonceRecord,
} from '../../domain/link-rules';
import { countForChannel, countLinkRejected } from '../../observability/telemetry';
import { NonceChangedError } from '../errors';
import { showMemberMenu } from '../loyalty/member-menu';
import type { LinkContext, LinkOutcome } from './link-context';
import { fileMerge, withdrawPendingMerge } from './merge-request';
import {
  detachPrevious,
  dropRegistrationKey,
  failLink as fail,
  profileHolder,
  recordLinked,
  restorePrevious,
  type Detached,
} from './move-profile';
import {
  attachSiblings,
  claimSiblings,
  detachSiblings,
  onACustomer,
  recordSiblingsLinked,
  release,
  restoreSiblings,
  siblingHoldsAnotherLineUser,
  type SiblingRecord,
} from './sibling-profiles';

/**
 * A nonce to resolve (LINE's accountLink, or the link API's verified ID token): the member it names gets
 * this channel's LINE profile with the user's current state, and the anonymous customer made at follow
 * time is handled as configured. A link moves the LINE profile and never strips it: a member that already
 * carries another LINE user of this account fails the link before anything changes, and an attach that
 * fails after the previous customer was detached puts the profile and subscription back first. The user's
 * profiles in the org's other channels of the provider move with it (./sibling-profiles).
 */
export async function completeLink(
  link: LinkContext,
  { nonce, via }: { nonce: string | undefined; via: 'accountLink' | 'id-token' },
): Promise<LinkOutcome> {
  const { claimed, channel, settings, log, call } = link;
  const { members } = channel;
  const { key, state } = claimed;
  if (nonce === undefined) return reject(link, 'no-nonce');
  const consumed = await consumeNonce(link, nonce);
  if (!('customer' in consumed)) return reject(link, consumed.rejection);
  const { customer } = consumed;

  const memberId = await members.findMember(customer, call);
  if (memberId === undefined) return fail(link, 'member-not-found');
  const siblings = await claimSiblings(link);
  if ('skipped' in siblings) return siblings.skipped;
  // Capillary keeps one LINE user per account on a customer: the brand page unlinks the other one first.
  if (
    (await members.holdsAnotherLineUser(memberId, key.userId, call)) ||
    (await siblingHoldsAnotherLineUser(link, onACustomer(siblings), memberId))
  )
    return failWithSiblings(link, siblings, 'member-has-another-line-user');
  const subscription = subscriptionOnLink(state.subscription, via);
  // Left on a customer the record does not name, the profile would take the attach (8050).
  let previous = await profileHolder({ channel, userId: key.userId, call }, state.customerId);
  const wasMember = previous !== undefined && previous === state.linkedCustomerId;
  const handling = anonymousCustomerAction(previous, memberId, settings.anonymousCustomer, state.linkedCustomerId);
  let detached: Detached | undefined;
  const move = { channel, userId: key.userId, call, log };
  if (handling === 'merge-request') {
    const merge = await fileMerge(link, previous as number, memberId, siblings);
    if (typeof merge !== 'string') return merge;
    if (merge === 'detach') detached = await detachPrevious(move, previous as number, memberId);
  }
  if (handling === 'detach') detached = await detachPrevious(move, previous as number, memberId);
  if (detached !== undefined) previous = detached.customerId;
  if (wasMember && previous !== undefined) await dropRegistrationKey(move, previous);
  await detachSiblings(link, siblings, memberId);
  const attached = await members.attach(memberId, key.userId, customer, call);
  const refusal = attached.attached ? await attachSiblings(link, siblings, memberId, customer) : attached.reason;
  if (refusal !== undefined) {
    if (attached.attached) await members.detach(memberId, key.userId, call);
    if (detached !== undefined) await restorePrevious(move, detached, state.subscription);
    await restoreSiblings(link, siblings, memberId);
    return failWithSiblings(link, siblings, refusal, { customerId: previous ?? null });
  }
  await channel.customers.setSubscription(memberId, subscription, call);
  // Linked to another member while a merge into the previous one was pending: that request goes before the record.
  if (state.linkedCustomerId !== memberId) await withdrawPendingMerge(link);
  await recordSiblingsLinked(link, siblings, customer, memberId);
  await recordLinked(link, customer, memberId, subscription);
  await showMemberMenu(channel, key.userId, memberId, link);
  countForChannel('LinkApplied', channel.id);
  log.info('LINE profile attached to the member', {
    customerId: memberId,
    previousCustomerId: previous,
    handling,
    subscription,
    via: customer.kind,
    siblings: onACustomer(siblings).length,
  });
  return { result: 'link', action: 'linked', customerId: memberId };
}

/** The link failed: the siblings' records as they were, this one's link status says why. */
async function failWithSiblings(
  link: LinkContext,
  siblings: readonly SiblingRecord[],
  reason: string,
  change?: Parameters<typeof fail>[2],
): Promise<LinkOutcome> {
  await release(siblings);
  return fail(link, reason, change);
}

/** Single use: the nonce's record as this event consumed it, or why the link rules refuse it. */
async function consumeNonce(
  { claimed, nonces, now }: LinkContext,
  nonce: string,
): Promise<NonceRecord | { rejection: LinkRejection }> {
  const { key, event } = claimed;
  const consumed = await nonces.consume(nonce, event.webhookEventId, now);
  const verdict = nonceVerdict(
    consumed.record,
    { webhookEventId: event.webhookEventId, userId: key.userId, destination: key.destination },
    now,
  );
  // The store refused what the rule accepts only if the record changed in between: retry and look again.
  if (!consumed.consumed && (verdict === 'accept' || verdict === 'impersonation'))
    throw new NonceChangedError(event.webhookEventId);
  return verdict === 'accept' ? (consumed.record as NonceRecord) : { rejection: verdict };
}

async function reject({ claimed, channel, log }: LinkContext, reason: LinkRejection): Promise<LinkOutcome> {
  // Not recorded as the lane's last event: a refused nonce must not make this user's own, older link stale.
  await claimed.complete({ recordEvent: false });
  countLinkRejected(channel.id, reason);
  // Another user's nonce: someone tried to link their LINE account to a member that is not theirs.
  if (reason === 'impersonation') countForChannel('LinkImpersonation', channel.id);
  log.warn('Link rejected; acknowledged, not retried', { reason });
  return { result: 'rejected', reason };
}
