import type { Logger } from '@aws-lambda-powertools/logger';

import { CustomerGoneError } from '../../capillary/errors';
import type { MemberLinker } from '../../capillary/member-linker';
import { rejectedMergeLink } from '../../domain/identity-rules';
import { landedOnPendingMember, pendingMergeRequestOf } from '../../domain/link-rules';
import type { LinkState, SubscriptionState, UserSyncState } from '../../domain/sync-rules';
import { countForChannel } from '../../observability/telemetry';
import type { SyncChannel } from './sync-line-event';

/** A channel whose follows may join the member a link named (its member linker). */
export type MemberSyncChannel = SyncChannel & { members: MemberLinker };

/**
 * The follow of someone recorded linked (not waiting for a merge) on this channel with no customer here (a channel of
 * the provider they did not follow when they linked on another): this channel's LINE profile joins the member the
 * record names, with the subscription. Registering instead lets Capillary choose by the registration's INSTORE `externalId`, which can sit on
 * the person's old customer of their own: the LINE id would then be split from the member. Returns the member, or
 * undefined when it cannot take the profile (gone in Capillary, refused): the follow then registers as any other.
 */
export async function joinLinkedMember(
  channel: MemberSyncChannel,
  { userId, memberId, subscription }: { userId: string; memberId: number; subscription: SubscriptionState },
  log: Logger,
  call: { deadlineAt: number },
): Promise<number | undefined> {
  try {
    const attached = await channel.members.attach(memberId, userId, { kind: 'customerId', value: memberId }, call);
    if (!attached.attached) {
      log.warn('Follow of a linked user: the member did not take the LINE profile; registering', {
        customerId: memberId,
        reason: attached.reason,
      });
      return undefined;
    }
    await channel.customers.setSubscription(memberId, subscription, call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    countForChannel('CustomerReResolved', channel.id);
    log.info('Follow of a linked user: the member is gone in Capillary; registering', { customerId: memberId });
    return undefined;
  }
  return memberId;
}

/**
 * A follow registered a user whose link waits for its merge request (on a channel of the provider they follow only
 * now, whose record named no customer for Capillary's notice to find): landed on the member, the request was approved
 * and the link is linked; else, rejected since, the link fails. Pending, or its request unknown: left as it is.
 */
export async function settleWaitingLink(
  channel: MemberSyncChannel,
  state: UserSyncState,
  customerId: number | undefined,
  call: { deadlineAt: number },
): Promise<{ link?: LinkState; linkedCustomerId?: null }> {
  if (landedOnPendingMember(state, customerId)) return { link: { status: 'linked', at: Date.now() } };
  const requestId = pendingMergeRequestOf(state.link);
  if (requestId === undefined || (await channel.members.mergeRequestStatus(requestId, call)) !== 'REJECTED') return {};
  countForChannel('LinkMergeRejectedFound', channel.id);
  return rejectedMergeLink(Date.now());
}
