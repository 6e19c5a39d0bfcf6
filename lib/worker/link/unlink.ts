import { CustomerGoneError } from '../../capillary/errors';
import { countForChannel } from '../../observability/telemetry';
import { removeMemberMenu } from '../loyalty/member-menu';
import { registerFollower } from '../sync/register-follower';
import { answerInChat } from './chat-answer';
import type { LinkContext, LinkOutcome } from './link-context';
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
  const { claimed, channel, nonces, log, call, now } = link;
  const { key, state } = claimed;
  const memberId = state.linkedCustomerId;
  if (memberId === undefined || (expected !== undefined && expected !== memberId)) {
    if (answer) await answerInChat(link, [textMessage(NOT_LINKED_TEXT)]);
    await claimed.complete({});
    log.info('Unlink requested for a user who is not linked (to that member)', { expected, memberId });
    return { result: 'link', action: 'not-linked' };
  }
  // Opt the member out on this channel first: if the removal then fails, no campaign reaches them meanwhile.
  const holder = await optOutHolder(link, memberId);
  if (holder !== undefined) await channel.members.detach(holder, key.userId, call);
  await nonces.removeMemberLinks(state.linkRefs ?? [], key.userId);
  if (answer) await answerInChat(link, [textMessage(UNLINKED_TEXT)]);
  const friend = state.subscription === 'OPTIN' && !channel.customers.defersRegistration;
  const own = friend ? await registerFollower(channel, key.userId, 'OPTIN', log, call) : undefined;
  await claimed.complete({
    customerId: own ?? null,
    linkedCustomerId: null,
    linkRefs: null,
    link: { status: 'unlinked', at: now },
  });
  await removeMemberMenu(channel, key.userId, link);
  countForChannel('LinkRemoved', channel.id);
  log.info('LINE identity removed from the member', { customerId: memberId, ownCustomerId: own });
  return { result: 'link', action: 'unlinked', customerId: memberId };
}

/** The member, or (gone in Capillary) whoever holds the LINE id now, opted out on this channel. */
async function optOutHolder({ channel, claimed, call, log }: LinkContext, memberId: number) {
  try {
    await channel.customers.setSubscription(memberId, 'OPTOUT', call);
    return memberId;
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    countForChannel('CustomerReResolved', channel.id);
    const holder = await channel.customers.find(claimed.key.userId, call);
    log.info('Member gone in Capillary; the user was looked up again', {
      goneCustomerId: memberId,
      customerId: holder,
    });
    if (holder !== undefined) await channel.customers.setSubscription(holder, 'OPTOUT', call);
    return holder;
  }
}
