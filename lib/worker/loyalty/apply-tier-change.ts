import type { Logger } from '@aws-lambda-powertools/logger';

import type { IdentityNotice } from '../../domain/identity-rules';
import type { UserSyncState } from '../../domain/sync-rules';
import { tierMenuAction, type TierNotice } from '../../domain/tier-rules';
import type { ClaimedEvent } from '../claim-user-record';
import type { IdentityOutcome } from '../identity/apply-identity-change';
import type { SyncOutcome } from '../sync/sync-line-event';
import type { LoyaltyChannel } from './loyalty-channel';
import { counted, removeMemberMenu, showMemberMenu, tierMenuChange, type MemberMenuOutcome } from './member-menu';

export type TierOutcome = { result: 'tier'; action: MemberMenuOutcome };

export interface TierContext {
  claimed: ClaimedEvent;
  notice: TierNotice;
  channel: LoyaltyChannel;
  log: Logger;
}

/**
 * A claimed tier event (loyalty lane: a stale or repeated one never gets here) → one LINE call, no Capillary call:
 * the new tier's menu for a user linked to the member, else no per-user menu. LINE failing after its retries
 * throws, so SQS retries the event (its claim resumed) until the DLQ; LINE refusing for good is counted and the
 * event recorded. A channel without a tier map records the event only.
 */
export async function applyTierChange({ claimed, notice, channel, log }: TierContext): Promise<TierOutcome> {
  const { state, key } = claimed;
  const show = tierMenuAction(state, notice) === 'show';
  const action =
    channel.loyalty.menus === undefined
      ? 'no-map'
      : counted(channel, log, await tierMenuChange(channel, key.userId, show ? notice : undefined));
  await claimed.complete({});
  log.info('Capillary tier change applied to the user', { action, member: show, customerId: notice.customerId });
  return { result: 'tier', action };
}

/**
 * After Capillary's identity change: a forgotten user gets no per-user menu; a user whose linked member was merged
 * into another gets the survivor's tier's menu (read from Capillary: the survivor's tier is not in the merge notice).
 */
export async function menuAfterIdentityChange(
  channel: LoyaltyChannel,
  {
    userId,
    state,
    notice,
    outcome,
  }: { userId: string; state: UserSyncState; notice: IdentityNotice; outcome: IdentityOutcome },
  call: { log: Logger; call: { deadlineAt: number } },
): Promise<void> {
  if (outcome.action === 'forgotten') await removeMemberMenu(channel, userId, call);
  else if ('victim' in notice && outcome.action !== 'not-named' && state.linkedCustomerId === notice.victim)
    await showMemberMenu(channel, userId, notice.survivor, call);
}

/**
 * A user followed again (unblocked): LINE refused their menu changes while they were no friend, so a linked member's
 * current tier's menu is set again (one Capillary read; a linked member's follow is rare), and a user who was ever
 * linked (or forgotten) but is not now loses a per-user menu an unlink could not remove while they were blocked.
 * Any follow or unfollow that found the linked member gone moves the menu with the link: the survivor's, or none.
 */
export async function menuAfterFollow(
  channel: LoyaltyChannel,
  { userId, state, outcome }: { userId: string; state: UserSyncState; outcome: SyncOutcome },
  call: { log: Logger; call: { deadlineAt: number } },
): Promise<void> {
  const relinked = outcome.linkedCustomerId;
  if (relinked !== undefined) {
    // The event found the linked member gone: the merge survivor's menu, or (deleted) none.
    if (relinked === null) await removeMemberMenu(channel, userId, call);
    else await showMemberMenu(channel, userId, relinked, call);
  } else if (outcome.subscription === 'OPTIN' && state.subscription !== 'OPTIN') {
    if (state.linkedCustomerId !== undefined) await showMemberMenu(channel, userId, state.linkedCustomerId, call);
    // Ever linked, or forgotten (a deletion's menu removal LINE refused while they were blocked): no member menu.
    else if (state.link !== undefined || state.forgottenAt !== undefined) await removeMemberMenu(channel, userId, call);
  }
}
