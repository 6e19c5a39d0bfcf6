import { CustomerGoneError } from '../../capillary/errors';
import type { SubscriptionState } from '../../domain/sync-rules';
import { countForChannel } from '../../observability/telemetry';
import { removeMemberMenu } from '../loyalty/member-menu';
import { registerFollower } from '../sync/register-follower';
import { answerInChat } from './chat-answer';
import type { LinkContext, LinkOutcome } from './link-context';
import { withdrawPendingMerge } from './merge-request';
import { dropRegistrationKey } from './move-profile';
import { claimSiblings, moveOf, release, type SiblingRecord } from './sibling-profiles';
import { NOT_LINKED_TEXT, textMessage, UNLINKED_TEXT } from './texts';

/**
 * Takes the LINE identity off the member and opts it out on this channel; the member index forgets the
 * link. A user who is still a friend gets a customer of their own again at once (unless registration
 * waits for a link), so no friend is left on no customer. A postback is answered in chat; the link API's
 * unlink has no chat to answer in, and names the member it expects: another member is not touched.
 */
export async function unlink(
  link: LinkContext,
  { answerInChat: answer, memberId: expected }: { answerInChat: boolean; memberId?: number },
): Promise<LinkOutcome> {
  const { claimed, channel, nonces, log, now } = link;
  const { key, state } = claimed;
  const memberId = state.linkedCustomerId;
  if (memberId === undefined || (expected !== undefined && expected !== memberId)) {
    if (answer) await answerInChat(link, [textMessage(NOT_LINKED_TEXT)]);
    await claimed.complete({});
    log.info('Unlink requested for a user who is not linked (to that member)', { expected, memberId });
    return { result: 'link', action: 'not-linked' };
  }
  // The provider's other channels carry the same LINE id: left on the member, they would pull this one back (8050).
  const siblings = await claimSiblings(link);
  if ('skipped' in siblings) return siblings.skipped;
  // A link waiting for its merge (or failed since) left the profiles on the anonymous customer: its request is
  // withdrawn, and they leave it as they would leave the member (Capillary may have approved it in between).
  await withdrawPendingMerge(link);
  const carrier = state.link?.status !== 'linked' && state.customerId !== undefined ? state.customerId : memberId;
  const onMember = siblings.filter((sibling) => sibling.customerId === memberId || sibling.customerId === carrier);
  // A channel the user did not follow was linked all the same (sibling-profiles): it is unlinked with the rest.
  const linked = siblings.filter(
    (sibling) => onMember.includes(sibling) || sibling.claimed.state.linkedCustomerId === memberId,
  );
  const holders = new Set<number | undefined>();
  for (const sibling of onMember)
    holders.add(await takeOffMember({ ...link, channel: sibling.channel }, sibling.customerId as number));
  holders.add(await takeOffMember(link, carrier));
  const move = { channel, userId: key.userId, call: link.call, log };
  for (const holder of holders) if (holder !== undefined) await dropRegistrationKey(move, holder);
  await nonces.removeMemberLinks(state.linkRefs ?? [], key.userId);
  if (answer) await answerInChat(link, [textMessage(UNLINKED_TEXT)]);
  const own = await ownCustomerAgain(link, state.subscription);
  // This record last: until it is recorded, a retry redoes the rest (siblings already recorded are skipped).
  for (const sibling of linked) await unlinkSibling(link, sibling);
  await release(siblings.filter((sibling) => !linked.includes(sibling)));
  await claimed.complete(unlinkedChange(own, now));
  await removeMemberMenu(channel, key.userId, link);
  countForChannel('LinkRemoved', channel.id);
  log.info('LINE identity removed from the member', {
    customerId: memberId,
    ownCustomerId: own,
    siblings: onMember.length,
  });
  return { result: 'link', action: 'unlinked', customerId: memberId };
}

/** The channel's LINE profile off the member (or whoever holds it now), opted out there first: who held it. */
async function takeOffMember(link: LinkContext, memberId: number): Promise<number | undefined> {
  const holder = await optOutHolder(link, memberId);
  if (holder !== undefined) await link.channel.members.detach(holder, link.claimed.key.userId, link.call);
  return holder;
}

/**
 * A friend gets a customer of their own again at once (unless registration waits for a link). Someone who is no
 * friend gets none; but an earlier attempt of this unlink, made while they still were one, may have registered them
 * before it died: that customer is opted out and named, so none carries the profile opted in behind the record.
 */
async function ownCustomerAgain(
  { channel, claimed, log, call }: Pick<LinkContext, 'channel' | 'claimed' | 'log' | 'call'>,
  subscription: SubscriptionState | undefined,
): Promise<number | undefined> {
  const { customers } = channel;
  if (customers.defersRegistration) return undefined;
  if (subscription === 'OPTIN') return registerFollower(channel, claimed.key.userId, 'OPTIN', log, call);
  const registeredBefore = await customers.findProfileHolder(claimed.key.userId, call);
  if (registeredBefore !== undefined) await customers.setSubscription(registeredBefore, 'OPTOUT', call);
  return registeredBefore;
}

const unlinkedChange = (own: number | undefined, now: number) => ({
  customerId: own ?? null,
  linkedCustomerId: null,
  linkRefs: null,
  link: { status: 'unlinked' as const, at: now },
});

/** A sibling off the member too: its own customer again (Capillary puts it with this channel's: one LINE id). */
async function unlinkSibling(link: LinkContext, { channel, claimed }: SiblingRecord): Promise<void> {
  const log = moveOf(link, { channel }).log;
  await link.nonces.removeMemberLinks(claimed.state.linkRefs ?? [], claimed.key.userId);
  const own = await ownCustomerAgain({ channel, claimed, log, call: link.call }, claimed.state.subscription);
  await claimed.complete(unlinkedChange(own, link.now));
  await removeMemberMenu(channel, claimed.key.userId, { log });
  countForChannel('LinkSiblingMoved', channel.id);
}

/** The member, or (gone in Capillary) whoever holds the LINE id now, opted out on this channel. */
async function optOutHolder(
  { channel, claimed, call, log }: Pick<LinkContext, 'channel' | 'claimed' | 'call' | 'log'>,
  memberId: number,
) {
  try {
    await channel.customers.setSubscription(memberId, 'OPTOUT', call);
    return memberId;
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    countForChannel('CustomerReResolved', channel.id);
    const holder = await channel.customers.findProfileHolder(claimed.key.userId, call);
    log.info('Member gone in Capillary; the user was looked up again', {
      goneCustomerId: memberId,
      customerId: holder,
    });
    if (holder !== undefined) await channel.customers.setSubscription(holder, 'OPTOUT', call);
    return holder;
  }
}
