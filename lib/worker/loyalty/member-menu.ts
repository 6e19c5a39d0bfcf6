import type { Logger } from '@aws-lambda-powertools/logger';

import { readMemberLoyalty } from '../../capillary/loyalty-reader';
import type { RichMenuOutcome } from '../../line/rich-menu-client';
import { countForChannel } from '../../observability/telemetry';
import type { LoyaltyChannel } from './loyalty-channel';

export type MemberMenuOutcome = 'linked' | 'removed' | 'no-map' | 'refused' | 'failed';

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
  const { menus, capillary, programId, richMenus } = channel.loyalty;
  if (menus === undefined) return 'no-map';
  return applied(channel, log, async () => {
    const reading = await readMemberLoyalty(capillary, memberId, { call, ...(programId ? { programId } : {}) });
    // Not in the program: no tier, so no member menu (the "*" menu is for members whose tier has no entry).
    const richMenuId = reading.outcome === 'member' ? await menus.menuIdFor(reading.standing) : undefined;
    if (richMenuId === undefined) return ['removed', await richMenus.unlinkUser(userId)];
    return ['linked', await richMenus.linkUser(userId, richMenuId)];
  });
}

/** An unlink: the user's per-user menu goes, so the account's default shows. A channel with no map set none. */
export async function removeMemberMenu(
  channel: LoyaltyChannel,
  userId: string,
  { log }: Pick<MenuCall, 'log'>,
): Promise<MemberMenuOutcome> {
  if (channel.loyalty.menus === undefined) return 'no-map';
  return applied(channel, log, async () => ['removed', await channel.loyalty.richMenus.unlinkUser(userId)]);
}

const METRIC = { linked: 'RichMenuLinked', removed: 'RichMenuUnlinked' } as const;

async function applied(
  { id }: LoyaltyChannel,
  log: Logger,
  change: () => Promise<['linked' | 'removed', RichMenuOutcome]>,
): Promise<MemberMenuOutcome> {
  try {
    const [done, outcome] = await change();
    if (outcome.done) {
      countForChannel(METRIC[done], id);
      return done;
    }
    // The user blocked the account, or the menu was deleted: the same call would meet the same answer.
    const { status, requestId, detail } = outcome.refusal;
    countForChannel('RichMenuRefused', id);
    log.warn('LINE refused the member menu; counted, not retried', { change: done, status, requestId, detail });
    return 'refused';
  } catch (error) {
    const { name, message } = error as Error;
    countForChannel('RichMenuFailed', id);
    log.warn('Member menu not changed: Capillary or LINE failing', { error: { name, message } });
    return 'failed';
  }
}
