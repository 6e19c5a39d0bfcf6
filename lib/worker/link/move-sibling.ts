import { subscriptionOnLink, type SiblingMove } from '../../domain/link-rules';
import { countForChannel } from '../../observability/telemetry';
import type { LinkContext, LinkOutcome } from './link-context';
import { detachPrevious, failLink, recordLinked, restorePrevious } from './move-profile';

/**
 * A link in another channel of the provider (same user id, same Capillary org) moved the user to a member: this
 * channel's LINE profile follows, under this channel's claim and by the same rule as a link (move, never strip):
 * off the customer this record names (the link took it off already; again is a no-op), onto the member with this
 * channel's subscription; an attach that fails puts it back. Already there: recorded, nothing written.
 */
export async function moveSibling(link: LinkContext, { memberId, customer }: SiblingMove): Promise<LinkOutcome> {
  const { claimed, channel, log, call } = link;
  const { key, state } = claimed;
  const previous = state.customerId;
  if (previous === undefined || (previous === memberId && state.linkedCustomerId === memberId)) {
    // Nothing to move: on the member already (a repeated link), or no customer since (forgotten, say).
    await claimed.complete({});
    log.info('Link move of another channel: nothing to move', { customerId: previous, memberId });
    return previous === undefined ? { result: 'link', action: 'not-linked' } : linked(memberId);
  }
  const subscription = subscriptionOnLink(state.subscription, 'id-token');
  if (previous !== memberId) {
    const move = { channel, userId: key.userId, call, log };
    const detached = await detachPrevious(move, previous, memberId);
    const attached = (await channel.members.holdsAnotherLineUser(memberId, key.userId, call))
      ? ({ attached: false, reason: 'member-has-another-line-user' } as const)
      : await channel.members.attach(memberId, key.userId, customer, call);
    if (!attached.attached) {
      await restorePrevious(move, detached, state.subscription);
      return failLink(link, attached.reason, { customerId: detached.customerId ?? null });
    }
    await channel.customers.setSubscription(memberId, subscription, call);
  }
  await recordLinked(link, customer, memberId, subscription);
  countForChannel('LinkSiblingMoved', channel.id);
  log.info('LINE profile moved to the member another channel of the provider linked to', {
    customerId: memberId,
    previousCustomerId: previous,
    subscription,
  });
  return linked(memberId);
}

const linked = (customerId: number): LinkOutcome => ({ result: 'link', action: 'linked', customerId });
