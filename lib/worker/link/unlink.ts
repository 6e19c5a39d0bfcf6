import { countForChannel } from '../../observability/telemetry';
import { removeMemberMenu } from '../loyalty/member-menu';
import { answerInChat } from './chat-answer';
import type { LinkContext, LinkOutcome } from './link-context';
import { NOT_LINKED_TEXT, textMessage, UNLINKED_TEXT } from './texts';

/**
 * Takes the LINE identity off the member and opts it out on this channel. A postback is answered in chat;
 * the link API's unlink has no chat to answer in.
 */
export async function unlink(
  link: LinkContext,
  { answerInChat: answer }: { answerInChat: boolean },
): Promise<LinkOutcome> {
  const { claimed, channel, log, call, now } = link;
  const memberId = claimed.state.linkedCustomerId;
  if (memberId === undefined) {
    if (answer) await answerInChat(link, [textMessage(NOT_LINKED_TEXT)]);
    await claimed.complete({});
    log.info('Unlink requested for a user who is not linked');
    return { result: 'link', action: 'not-linked' };
  }
  // Opt the member out on this channel first: if the removal then fails, no campaign reaches them meanwhile.
  await channel.customers.setSubscription(memberId, 'OPTOUT', call);
  await channel.members.detach(memberId, claimed.key.userId, call);
  if (answer) await answerInChat(link, [textMessage(UNLINKED_TEXT)]);
  // The record keeps its subscription; with no customer, the next follow registers as for anyone new.
  await claimed.complete({ customerId: null, linkedCustomerId: null, link: { status: 'unlinked', at: now } });
  await removeMemberMenu(channel, claimed.key.userId, link);
  countForChannel('LinkRemoved', channel.id);
  log.info('LINE identity removed from the member', { customerId: memberId });
  return { result: 'link', action: 'unlinked', customerId: memberId };
}
