import type { Logger } from '@aws-lambda-powertools/logger';

import { readMemberLoyalty } from '../../capillary/loyalty-reader';
import type { MemberTier } from '../../domain/loyalty-rules';
import type { RichMenuOutcome } from '../../line/rich-menu-client';
import { countForChannel } from '../../observability/telemetry';
import type { LoyaltyChannel } from './loyalty-channel';

export type MemberMenuOutcome = 'linked' | 'removed' | 'no-map' | 'refused' | 'failed';
/** What LINE was asked, and what it answered. */
type MenuChange = ['linked' | 'removed', RichMenuOutcome];

interface MenuCall {
  log: Logger;
  call: { deadlineAt: number };
}

/**
 * A link completed: the member's current tier (read from Capillary) gets its menu, or, with no menu for the tier,
 * the account's default shows. Never throws: the link is done and its event settled, so a retry would change
 * nothing; a failure is counted (RichMenuFailed) and logged, and the next tier change sets the menu.
 */
export async function showMemberMenu(
  channel: LoyaltyChannel,
  userId: string,
  memberId: number,
  { log, call }: MenuCall,
): Promise<MemberMenuOutcome> {
  const { menus, capillary, programId } = channel.loyalty;
  if (menus === undefined) return 'no-map';
  return settled(channel, log, async () => {
    const reading = await readMemberLoyalty(capillary, memberId, { call, ...(programId ? { programId } : {}) });
    // Not in the program: no tier, so no member menu (the "*" menu is for members whose tier has no entry).
    return tierMenuChange(channel, userId, reading.outcome === 'member' ? reading.standing : undefined);
  });
}

/** An unlink or a forgotten user: the per-user menu goes, so the account's default shows. Never throws. */
export async function removeMemberMenu(
  channel: LoyaltyChannel,
  userId: string,
  { log }: Pick<MenuCall, 'log'>,
): Promise<MemberMenuOutcome> {
  if (channel.loyalty.menus === undefined) return 'no-map';
  return settled(channel, log, () => tierMenuChange(channel, userId, undefined));
}

/**
 * The tier's menu linked to the user, or (no tier, or no menu for it) the per-user menu removed: one LINE call.
 * LINE failing after its retries throws; LINE refusing for good is an outcome (counted by `counted`).
 */
export async function tierMenuChange(
  { loyalty }: LoyaltyChannel,
  userId: string,
  tier: MemberTier | undefined,
): Promise<MenuChange> {
  const richMenuId = tier === undefined ? undefined : await loyalty.menus?.menuIdFor(tier);
  if (richMenuId === undefined) return ['removed', await loyalty.richMenus.unlinkUser(userId)];
  return ['linked', await loyalty.richMenus.linkUser(userId, richMenuId)];
}

/** Counted and logged: done, or refused for good (the user blocked the account, the menu was deleted). */
export function counted(channel: LoyaltyChannel, log: Logger, [done, outcome]: MenuChange): MemberMenuOutcome {
  if (outcome.done) {
    if (done === 'linked') countForChannel('RichMenuLinked', channel.id);
    else countForChannel('RichMenuUnlinked', channel.id);
    return done;
  }
  // The same call would meet the same answer: never retried.
  const { status, requestId, detail } = outcome.refusal;
  countForChannel('RichMenuRefused', channel.id);
  log.warn('LINE refused the member menu; counted, not retried', { change: done, status, requestId, detail });
  return 'refused';
}

async function settled(channel: LoyaltyChannel, log: Logger, change: () => Promise<MenuChange>) {
  try {
    return counted(channel, log, await change());
  } catch (error) {
    const { name, message } = error as Error;
    countForChannel('RichMenuFailed', channel.id);
    log.warn('Member menu not changed: Capillary or LINE failing', { error: { name, message } });
    return 'failed' as const;
  }
}
