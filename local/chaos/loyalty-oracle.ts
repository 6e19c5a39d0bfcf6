/**
 * What a loyalty chaos run (loyalty-scenario.ts) must leave behind, checked against the real end state: every
 * linked friend has the menu their member's current tier maps to (none when it maps to none), every other friend or
 * stranger has no per-user menu, and no chat event was answered twice. A user who blocked the account is not
 * checked for menus: LINE refuses their menu changes until they follow again.
 */
import type { UserSyncState } from '../../lib/domain/sync-rules';

export interface LoyaltyUserObservation {
  userId: string;
  /** the user's record at the end */
  record: UserSyncState | undefined;
  /** a friend of the account at the end (not blocked) */
  friend: boolean;
  /** the rich menu LINE has linked to the user */
  menu: string | undefined;
  /** messages LINE delivered to the user (replies and pushes) */
  answers: number;
  /** distinct chat events of the user that may be answered (postbacks) */
  askedInChat: number;
}

export interface LoyaltyObservation {
  users: LoyaltyUserObservation[];
  /** the menu the member's tier maps to now (Capillary's truth); undefined = no per-user menu */
  menuOfMember: (memberId: number) => string | undefined;
}

export type LoyaltyProblemKind = 'wrong-menu' | 'stray-menu' | 'answered-twice';

export interface LoyaltyProblem {
  userId: string;
  kind: LoyaltyProblemKind;
  detail: string;
}

export function checkLoyalty({ users, menuOfMember }: LoyaltyObservation): LoyaltyProblem[] {
  const problems: LoyaltyProblem[] = [];
  for (const user of users) {
    const memberId = user.record?.linkedCustomerId;
    if (user.friend && memberId !== undefined) {
      const expected = menuOfMember(memberId);
      if (user.menu !== expected)
        problems.push({
          userId: user.userId,
          kind: 'wrong-menu',
          detail: `has ${user.menu}, tier maps to ${expected}`,
        });
    } else if (user.friend && memberId === undefined && user.menu !== undefined)
      problems.push({ userId: user.userId, kind: 'stray-menu', detail: `not linked, has ${user.menu}` });
    if (user.answers > user.askedInChat)
      problems.push({
        userId: user.userId,
        kind: 'answered-twice',
        detail: `${user.answers} answers to ${user.askedInChat} chat events`,
      });
  }
  return problems;
}
