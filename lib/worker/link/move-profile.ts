import type { Logger } from '@aws-lambda-powertools/logger';

import { CustomerGoneError } from '../../capillary/errors';
import type { CallOptions } from '../../capillary/http-client';
import type { DetachedProfile } from '../../capillary/member-linker';
import type { CustomerReference } from '../../domain/link-rules';
import type { SubscriptionState } from '../../domain/sync-rules';
import { countForChannel, countLinkFailed } from '../../observability/telemetry';
import type { AppliedChange } from '../../store/ports';
import type { LinkChannel, LinkContext, LinkOutcome } from './link-context';

/**
 * The two halves of moving one channel's LINE profile to a member (a link, or a link's sibling move): taking it
 * off the customer that held it, and putting it back there when the attach to the member fails.
 */
export interface ProfileMove {
  channel: LinkChannel;
  userId: string;
  call: CallOptions;
  log: Logger;
}

/** The customer the LINE profile was taken off (after a re-resolve, the one that held it), and what was taken. */
export interface Detached {
  customerId: number | undefined;
  identifiers?: DetachedProfile;
}

/**
 * Opts the previous customer out and takes this channel's LINE profile off it. A previous customer that
 * Capillary no longer has is re-resolved: whoever holds the LINE identifier now (a merge survivor) is
 * detached instead; nobody, nothing to detach. Safe to repeat: a profile already off is taken as detached.
 * @param memberId where the profile moves to (never detached from); none when it goes nowhere (a forgotten user)
 */
export async function detachPrevious(
  { channel, userId, call, log }: ProfileMove,
  previous: number,
  memberId?: number,
): Promise<Detached> {
  let holder: number | undefined = previous;
  try {
    await channel.customers.setSubscription(previous, 'OPTOUT', call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    countForChannel('CustomerReResolved', channel.id);
    holder = await channel.customers.findProfileHolder(userId, call);
    log.info('Previous customer gone in Capillary; the user was looked up again', {
      goneCustomerId: previous,
      customerId: holder,
    });
    if (holder === undefined || holder === previous || holder === memberId) return { customerId: undefined };
    await channel.customers.setSubscription(holder, 'OPTOUT', call);
  }
  return { customerId: holder, identifiers: await channel.members.detach(holder, userId, call) };
}

/**
 * The customer carrying this channel's LINE profile of the user, for a record that names none: a follow whose
 * registration reached Capillary and never completed (its answer lost) left it there.
 */
export async function profileHolder(
  { channel, userId, call }: Omit<ProfileMove, 'log'>,
  recorded: number | undefined,
): Promise<number | undefined> {
  if (recorded !== undefined) return recorded;
  return channel.customers.findProfileHolder(userId, call);
}

/** A failed attach: the LINE profile back on the previous customer, with the subscription it had. */
export async function restorePrevious(
  { channel, userId, call, log }: ProfileMove,
  { customerId, identifiers }: Detached,
  subscription: SubscriptionState | undefined,
): Promise<void> {
  if (customerId === undefined || identifiers === undefined) return;
  await channel.members.restore(customerId, userId, identifiers, call);
  if (subscription !== undefined) await channel.customers.setSubscription(customerId, subscription, call);
  countForChannel('LinkRestored', channel.id);
  log.info('Link failed after the detach: LINE profile restored on the previous customer', { customerId });
}

/**
 * The user is linked to the member: the member index points at them, and the record says so (and names the member
 * as their customer where they are on it).
 */
export async function recordLinked(
  link: LinkContext,
  customer: CustomerReference,
  memberId: number,
  subscription?: SubscriptionState,
): Promise<void> {
  const linkRefs = await pointMemberIndex(link, customer, memberId);
  await link.claimed.complete({
    // Without a subscription: a channel of the provider the user does not follow, linked all the same, so that a
    // follow there later lands on the member as linked (Capillary merges its LINE profile there, 8050).
    ...(subscription === undefined ? {} : { customerId: memberId, subscription }),
    linkedCustomerId: memberId,
    linkRefs,
    link: { status: 'linked', at: link.now },
    // The menu is set from the tier read after this: a tier notification from before it is stale.
    tierReadAt: link.now,
  });
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

/** Recorded in the user's link status with the reason; the user keeps their customer; a new attempt starts over. */
export async function failLink(
  { claimed, channel, log, now }: LinkContext,
  reason: string,
  change: Pick<AppliedChange, 'customerId'> = {},
): Promise<LinkOutcome> {
  // Not recorded as the lane's last event: a failed link changed nothing in Capillary (what it moved is back), so it
  // must not make the user's older unlink or link, delivered after it, stale.
  await claimed.complete({ ...change, link: { status: 'failed', detail: reason, at: now }, recordEvent: false });
  countLinkFailed(
    channel.id,
    reason.startsWith('capillary-merged-into-customer-') ? 'capillary-merged-elsewhere' : reason,
  );
  log.warn('Link failed; recorded in the user record', { reason });
  return { result: 'link', action: 'link-failed', detail: reason };
}

/**
 * A registration of the user that Capillary merged into a member (8050 on a sibling channel's follow, Member Care, the
 * link's merge request) left its INSTORE externalId there: kept on a member the user leaves (an unlink, a re-link), the
 * user's own registration would find that member again.
 */
export async function dropRegistrationKey(
  { channel, userId, call, log }: ProfileMove,
  memberId: number,
): Promise<void> {
  const externalId = { type: 'externalId', value: channel.customers.externalIdFor(userId) };
  if (await channel.members.removeInstoreIdentifier(memberId, externalId, call)) return;
  log.warn('Capillary kept the registration externalId on the member: the user lands on it again', {
    customerId: memberId,
  });
}
