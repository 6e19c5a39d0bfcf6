import { CustomerGoneError } from '../../capillary/errors';
import type { DetachedProfile } from '../../capillary/member-linker';
import {
  anonymousCustomerAction,
  nonceVerdict,
  subscriptionOnLink,
  type CustomerReference,
  type LinkRejection,
  type NonceRecord,
} from '../../domain/link-rules';
import { countForChannel, countLinkFailed, countLinkRejected } from '../../observability/telemetry';
import type { AppliedChange } from '../../store/ports';
import { NonceChangedError } from '../errors';
import { showMemberMenu } from '../loyalty/member-menu';
import type { LinkContext, LinkOutcome } from './link-context';
import { fileMerge } from './merge-request';

/**
 * A nonce to resolve (LINE's accountLink, or the link API's verified ID token): the member it names gets
 * this channel's LINE profile with the user's current state, and the anonymous customer made at follow
 * time is handled as configured. A link moves the LINE profile and never strips it: a member that already
 * carries another LINE user of this account fails the link before anything changes, and an attach that
 * fails after the previous customer was detached puts the profile and subscription back first.
 */
export async function completeLink(
  link: LinkContext,
  { nonce, via }: { nonce: string | undefined; via: 'accountLink' | 'id-token' },
): Promise<LinkOutcome> {
  const { claimed, channel, settings, log, call, now } = link;
  const { members } = channel;
  const { key, state } = claimed;
  if (nonce === undefined) return reject(link, 'no-nonce');
  const consumed = await consumeNonce(link, nonce);
  if (!('customer' in consumed)) return reject(link, consumed.rejection);
  const { customer } = consumed;

  const memberId = await members.findMember(customer, call);
  if (memberId === undefined) return fail(link, 'member-not-found');
  // Capillary keeps one LINE user per account on a customer: the brand page unlinks the other one first.
  if (await members.holdsAnotherLineUser(memberId, key.userId, call)) return fail(link, 'member-has-another-line-user');
  const subscription = subscriptionOnLink(state.subscription, via);
  let previous = state.customerId;
  const wasMember = previous !== undefined && previous === state.linkedCustomerId;
  // A previous member is always detached: two members are never merged or both kept.
  const handling = anonymousCustomerAction(previous, memberId, wasMember ? 'detach' : settings.anonymousCustomer);
  let detached: Detached | undefined;
  if (handling === 'merge-request') {
    const merge = await fileMerge(link, previous as number, memberId);
    if ('result' in merge) return merge;
    if (merge.victimGone) detached = await detachPrevious(link, previous as number, memberId);
  }
  if (handling === 'detach') detached = await detachPrevious(link, previous as number, memberId);
  if (detached !== undefined) previous = detached.customerId;
  const attached = await members.attach(memberId, key.userId, customer, call);
  if (!attached.attached) {
    if (detached?.identifiers !== undefined) await restorePrevious(link, detached as Required<Detached>);
    return fail(link, attached.reason, { customerId: previous ?? null });
  }
  await channel.customers.setSubscription(memberId, subscription, call);
  const linkRefs = await pointMemberIndex(link, customer, memberId);
  await claimed.complete({
    customerId: memberId,
    linkedCustomerId: memberId,
    subscription,
    linkRefs,
    link: { status: 'linked', at: now },
    // The menu is set from the tier read after this: a tier notification from before it is stale.
    tierReadAt: now,
  });
  await showMemberMenu(channel, key.userId, memberId, link);
  countForChannel('LinkApplied', channel.id);
  log.info('LINE profile attached to the member', {
    customerId: memberId,
    previousCustomerId: previous,
    handling,
    subscription,
    via: customer.kind,
  });
  return { result: 'link', action: 'linked', customerId: memberId };
}

/** The customer the LINE profile was taken off (after a re-resolve, the one that held it), and what was taken. */
interface Detached {
  customerId: number | undefined;
  identifiers?: DetachedProfile;
}

/**
 * Opts the previous customer out and takes this channel's LINE profile off it. A previous customer that
 * Capillary no longer has is re-resolved: whoever holds the LINE identifier now (a merge survivor) is
 * detached instead; nobody, nothing to detach.
 */
async function detachPrevious(link: LinkContext, previous: number, memberId: number): Promise<Detached> {
  const { channel, claimed, call, log } = link;
  let holder: number | undefined = previous;
  try {
    await channel.customers.setSubscription(previous, 'OPTOUT', call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    countForChannel('CustomerReResolved', channel.id);
    holder = await channel.customers.find(claimed.key.userId, call);
    log.info('Previous customer gone in Capillary; the user was looked up again', {
      goneCustomerId: previous,
      customerId: holder,
    });
    if (holder === undefined || holder === previous || holder === memberId) return { customerId: undefined };
    await channel.customers.setSubscription(holder, 'OPTOUT', call);
  }
  return { customerId: holder, identifiers: await channel.members.detach(holder, claimed.key.userId, call) };
}

/** A failed attach: the LINE profile back on the previous customer, with the subscription it had. */
async function restorePrevious(
  { channel, claimed, call, log }: LinkContext,
  { customerId, identifiers }: Required<Detached>,
): Promise<void> {
  const id = customerId as number;
  await channel.members.restore(id, claimed.key.userId, identifiers, call);
  if (claimed.state.subscription !== undefined)
    await channel.customers.setSubscription(id, claimed.state.subscription, call);
  countForChannel('LinkRestored', channel.id);
  log.info('Link failed after the detach: LINE profile restored on the previous customer', { customerId: id });
}

/**
 * The member index points at this user and member (every reference it was found by); a previous member's
 * entries go, so an unlink by that member's reference no longer finds this user. Returns the keys kept.
 */
async function pointMemberIndex(
  { claimed, nonces }: LinkContext,
  customer: CustomerReference,
  memberId: number,
): Promise<string[]> {
  const { key, state } = claimed;
  const references: CustomerReference[] = [customer, { kind: 'customerId', value: memberId }];
  const saved = await nonces.saveMemberLink(key.destination, references, { userId: key.userId, memberId });
  const kept = state.linkRefs ?? [];
  if (state.linkedCustomerId === memberId) return [...new Set([...kept, ...saved])];
  await nonces.removeMemberLinks(
    kept.filter((pk) => !saved.includes(pk)),
    key.userId,
  );
  return saved;
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

/** Recorded in the user's link status with the reason; the user keeps their customer; a new attempt starts over. */
async function fail(
  { claimed, channel, log, now }: LinkContext,
  reason: string,
  change: Pick<AppliedChange, 'customerId'> = {},
): Promise<LinkOutcome> {
  await claimed.complete({ ...change, link: { status: 'failed', detail: reason, at: now } });
  countLinkFailed(
    channel.id,
    reason.startsWith('capillary-merged-into-customer-') ? 'capillary-merged-elsewhere' : reason,
  );
  log.warn('Link failed; recorded in the user record', { reason });
  return { result: 'link', action: 'link-failed', detail: reason };
}
