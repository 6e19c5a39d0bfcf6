/**
 * The rich menus of existing members (docs/loyalty.md#existing-members): every linked member of one channel's bot
 * read from the user table, their tier read from Capillary (the org's shared budget, like the backfill), and their
 * menus linked with LINE's bulk link, one call per menu per 500 users. Members whose tier has no menu are left
 * alone (no per-user menu is what they should have). LINE applies a bulk link later and says nothing per user;
 * linking a user to the menu they already have changes nothing, so a rerun changes nothing that is already right.
 */
import type { RateLimiter } from '../../lib/capillary/rate-limiter';
import type { MemberTier } from '../../lib/domain/loyalty-rules';
import type { RichMenuClient, RichMenuRefusal } from '../../lib/line/rich-menu-client';
import type { CensusRecord } from '../../lib/store/user-census';
import type { TierMenus } from '../../lib/worker/loyalty/loyalty-channel';
import { MenuSyncBudgetError } from './errors';

export interface MenuSyncDeps {
  /** the channel's user records */
  records: () => AsyncIterable<CensusRecord>;
  /** the member's tier in the program shown; undefined: not a member of it (or gone) */
  readTier: (memberId: number) => Promise<MemberTier | undefined>;
  /** the shared Capillary budget: each read takes one token */
  limiter: RateLimiter;
  menus: TierMenus;
  richMenus: Pick<RichMenuClient, 'bulkLink'>;
}

export interface MenuSyncOptions {
  dryRun: boolean;
  /** called after every Capillary read and every LINE call */
  onProgress?: (progress: { read: number; members: number; linked: number }) => void;
  /** how long one Capillary read may wait for the budget */
  readTimeoutMs?: number;
}

export interface MenuSyncReport {
  members: number;
  /** users per menu id (linked, or to link on a dry run) */
  byMenu: Record<string, number>;
  /** members whose tier has no menu (or who are in no tier): left with the account's default menu */
  withoutMenu: number;
  /** LINE bulk link calls made (0 on a dry run) */
  lineCalls: number;
  refusals: RichMenuRefusal[];
}

export async function syncMemberMenus(deps: MenuSyncDeps, options: MenuSyncOptions): Promise<MenuSyncReport> {
  const members: { userId: string; memberId: number }[] = [];
  for await (const { userId, state } of deps.records())
    if (state.linkedCustomerId !== undefined) members.push({ userId, memberId: state.linkedCustomerId });
  const usersByMenu = new Map<string, string[]>();
  let [read, withoutMenu, linked] = [0, 0, 0];
  const progress = () => options.onProgress?.({ read, members: members.length, linked });
  for (const { userId, memberId } of members) {
    const waitMs = options.readTimeoutMs ?? 120_000;
    if (!(await deps.limiter.take(1, Date.now() + waitMs))) throw new MenuSyncBudgetError(waitMs);
    const tier = await deps.readTier(memberId);
    read += 1;
    const richMenuId = tier === undefined ? undefined : await deps.menus.menuIdFor(tier);
    if (richMenuId === undefined) withoutMenu += 1;
    else usersByMenu.set(richMenuId, [...(usersByMenu.get(richMenuId) ?? []), userId]);
    progress();
  }
  let lineCalls = 0;
  const refusals: RichMenuRefusal[] = [];
  if (!options.dryRun)
    for (const [richMenuId, userIds] of usersByMenu) {
      const result = await deps.richMenus.bulkLink(richMenuId, userIds);
      lineCalls += result.calls;
      refusals.push(...result.refusals);
      linked += userIds.length;
      progress();
    }
  const byMenu = Object.fromEntries([...usersByMenu].map(([richMenuId, userIds]) => [richMenuId, userIds.length]));
  return { members: members.length, byMenu, withoutMenu, lineCalls, refusals };
}
