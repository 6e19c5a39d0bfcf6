/**
 * Loyalty chaos: members' tier changes in Capillary interleaved with their LINE users' follows, blocks, links,
 * unlinks and "my points", and with Capillary merging a member into another or deleting it on a PII request, each
 * delivered late (out of order) and again (LINE redeliveries, Capillary's repeated notifications, SQS's repeated
 * messages), through the real worker and the real notifications function over the stand-ins and dynalite.
 * loyalty-oracle.ts then checks the menus and the answers against the end state.
 */
import { randomUUID } from 'node:crypto';

import fc from 'fast-check';

import type { WorkerChannel } from '../../lib/config/worker-config';
import { menuForTier, parseRichMenusByTier } from '../../lib/domain/loyalty-rules';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { handleNotificationRequest } from '../../lib/notifications/handle-notification-request';
import { parseQueuedEvent } from '../../lib/queue/queued-event';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  unfollowEvent,
} from '../line-event-factory';
import { notificationRequest, notificationsKeepingQueued } from '../rigs/notifications-rig';
import { RIG_CHANNEL, startWorkerHarness, type WorkerHarness } from '../rigs/worker-rig';
import { DEFAULT_LOYALTY_PROGRAM } from '../standins/capillary-loyalty';
import {
  deletionNotificationFields,
  mergeNotificationFields,
  tierNotificationFields,
} from '../standins/capillary-notifier';
import { checkLoyalty, type LoyaltyProblem } from './loyalty-oracle';

export type LoyaltyAction = 'follow' | 'unfollow' | 'link' | 'unlink' | 'points';

export type LoyaltyStep =
  | { kind: 'line'; user: number; action: LoyaltyAction; lateBy: number; redeliveries: number }
  | { kind: 'tier'; member: number; tierNumber: number; lateBy: number; repeats: number }
  | { kind: 'identity'; member: number; action: 'merge' | 'delete'; lateBy: number; repeats: number };

export interface LoyaltyScenario {
  users: number;
  steps: LoyaltyStep[];
}

/**
 * @param identityWeight how often, against 2 for a LINE step and 1 for a tier change, Capillary merges or deletes a
 * member; 0 generates exactly the scenarios it did before these steps existed (a seed replays the same run)
 */
export function loyaltyScenarioArbitrary(
  users: number,
  steps: number,
  identityWeight = 0,
): fc.Arbitrary<LoyaltyScenario> {
  const late = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 8 }) },
  );
  const again = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
  );
  const user = fc.integer({ min: 0, max: users - 1 });
  const lineStep = fc.record({
    kind: fc.constant('line' as const),
    user,
    action: fc.constantFrom<LoyaltyAction>('follow', 'unfollow', 'link', 'link', 'unlink', 'points'),
    lateBy: late,
    redeliveries: again,
  });
  const tierStep = fc.record({
    kind: fc.constant('tier' as const),
    member: user,
    tierNumber: fc.integer({ min: 1, max: 3 }),
    lateBy: late,
    repeats: again,
  });
  const identityStep = fc.record({
    kind: fc.constant('identity' as const),
    member: user,
    action: fc.constantFrom<'merge' | 'delete'>('merge', 'merge', 'delete'),
    lateBy: late,
    repeats: again,
  });
  const step: fc.Arbitrary<LoyaltyStep> =
    identityWeight === 0
      ? fc.oneof(lineStep, tierStep)
      : fc.oneof(
          { weight: 20, arbitrary: lineStep },
          { weight: 10, arbitrary: tierStep },
          { weight: identityWeight, arbitrary: identityStep },
        );
  return fc.record({ users: fc.constant(users), steps: fc.array(step, { minLength: steps, maxLength: steps }) });
}

export interface LoyaltyRunResult {
  problems: LoyaltyProblem[];
  counts: {
    lineEvents: number;
    tierNotifications: number;
    tierEvents: number;
    membersMerged: number;
    membersDeleted: number;
    identityNotifications: number;
    identityEvents: number;
    linkedFriends: number;
    menusLinked: number;
  };
}

const MENUS = { Silver: `richmenu-${'a'.repeat(32)}`, Gold: `richmenu-${'b'.repeat(32)}` };
const MENU_MAP = parseRichMenusByTier(MENUS, 'loyalty chaos').map!;
const CHANNEL: WorkerChannel = { ...RIG_CHANNEL, loyalty: { richMenusByTier: MENU_MAP } };

/** Plays the scenario; each step happens now (real time, as Capillary and LINE stamp it) and arrives `lateBy` steps later. */
export async function playLoyaltyScenario({ users, steps }: LoyaltyScenario): Promise<LoyaltyRunResult> {
  const harness = await startWorkerHarness({ channels: [CHANNEL] });
  try {
    return await play(harness, users, steps);
  } finally {
    await harness.close();
  }
}

async function play(harness: WorkerHarness, userCount: number, steps: LoyaltyStep[]): Promise<LoyaltyRunResult> {
  for (const richMenuId of Object.values(MENUS)) harness.line.richMenus.create({ richMenuId });
  const userIds = Array.from({ length: userCount }, () => lineUserId());
  const mobiles = userIds.map((_, index) => `6682${String(index).padStart(7, '0')}`);
  // Each member's customer now: a merge's survivor after a merge, undefined once deleted.
  const members: (number | undefined)[] = mobiles.map((mobile) => harness.capillary.addMember({ mobile }));
  let freshMembers = 0;
  let deletionRequests = 0;
  const { notifications, queued } = notificationsKeepingQueued('local-queue', harness.dynamo, harness.config.tableName);
  const nonces = new LinkNonceStore(harness.dynamo, harness.config.tableName);
  const asked = new Map<string, Set<string>>();
  const counts: LoyaltyRunResult['counts'] = {
    lineEvents: 0,
    tierNotifications: 0,
    tierEvents: 0,
    membersMerged: 0,
    membersDeleted: 0,
    identityNotifications: 0,
    identityEvents: 0,
    linkedFriends: 0,
    menusLinked: 0,
  };
  const pending: { due: number; deliver: () => Promise<void> }[] = [];
  let clock = 0;

  const deliverLine = (event: LineWebhookEvent) => async () => {
    counts.lineEvents += 1;
    await harness.run([event]);
  };
  const deliverNotification = (body: unknown, kind: 'tier' | 'identity') => async () => {
    counts[`${kind}Notifications`] += 1;
    await handleNotificationRequest(notificationRequest(body), notifications);
    for (const message of queued.splice(0)) {
      const { channel, destination, event } = parseQueuedEvent(message);
      counts[`${kind}Events`] += 1;
      await harness.run([event], 1, { channel, destination });
      // SQS may deliver a message again: the user's record takes it once.
      if (counts[`${kind}Events`] % 4 === 0) await harness.run([event], 2, { channel, destination });
    }
  };
  const notify = (fields: Record<string, unknown>, kind: 'tier' | 'identity', at: number, repeats: number) => {
    const body = { ...fields, orgId: 1, createdAt: clock };
    for (let repeat = 0; repeat <= repeats; repeat++)
      pending.push({ due: at + repeat * 3, deliver: deliverNotification(body, kind) });
  };

  for (const [index, step] of steps.entries()) {
    clock = Math.max(clock + 1, Date.now());
    const at = index + step.lateBy;
    const memberId = step.kind === 'line' ? undefined : members[step.member];
    if (step.kind === 'tier') {
      if (memberId === undefined) continue; // deleted
      const change = harness.capillary.loyalty.setTier(memberId, step.tierNumber);
      notify(
        { ...tierNotificationFields(change, DEFAULT_LOYALTY_PROGRAM), eventId: randomUUID() },
        'tier',
        at,
        step.repeats,
      );
    } else if (step.kind === 'identity') {
      if (memberId === undefined) continue;
      if (step.action === 'merge') {
        // Member Care merges the member into another: the survivor carries its mobile, and has a tier of its own.
        const survivor = harness.capillary.addMember({ mobile: `6683${String(freshMembers++).padStart(7, '0')}` });
        harness.capillary.mergeCustomers(survivor, memberId);
        members[step.member] = survivor;
        counts.membersMerged += 1;
        notify(mergeNotificationFields(survivor, memberId), 'identity', at, step.repeats);
      } else {
        harness.capillary.deleteCustomer(memberId);
        members[step.member] = undefined;
        counts.membersDeleted += 1;
        notify(
          { ...deletionNotificationFields(memberId, ++deletionRequests), eventId: randomUUID() },
          'identity',
          at,
          step.repeats,
        );
      }
    } else {
      const userId = userIds[step.user] as string;
      const event = await lineEventOf(step.action, userId, clock, {
        harness,
        nonces,
        mobile: mobiles[step.user] as string,
      });
      if (event === undefined) continue;
      // A chat event may be answered once, by its reply token or by push.
      if (event.type !== 'follow' && typeof event.replyToken === 'string')
        asked.set(userId, (asked.get(userId) ?? new Set<string>()).add(event.replyToken));
      pending.push({ due: at, deliver: deliverLine(event) });
      for (let again = 1; again <= step.redeliveries; again++)
        pending.push({ due: at + again * 2, deliver: deliverLine(redelivery(event)) });
    }
    // What is due now arrives newest first: out of order whenever several are due together.
    const due = pending.filter((delivery) => delivery.due <= index).reverse();
    for (const delivery of due) pending.splice(pending.indexOf(delivery), 1);
    for (const delivery of due) await delivery.deliver();
  }
  for (const delivery of pending.reverse()) await delivery.deliver();
  // Then everyone who blocked the account follows again: LINE refused their menu changes meanwhile, and the follow
  // must set the menu right (an unlink's removal refused while they were blocked included).
  const blocked = new Set(harness.line.state().blockedUserIds);
  for (const userId of userIds.filter((id) => blocked.has(id))) {
    harness.line.setBlocked(userId, false);
    await deliverLine(followEvent(userId, Math.max(clock + 1, Date.now()), { follow: { isUnblocked: true } }))();
  }
  return { problems: await observe(harness, userIds, asked, counts), counts };
}

/** The LINE event of an action, and what it changes at LINE when it happens (friendship); none when impossible. */
async function lineEventOf(
  action: LoyaltyAction,
  userId: string,
  at: number,
  { harness, nonces, mobile }: { harness: WorkerHarness; nonces: LinkNonceStore; mobile: string },
): Promise<LineWebhookEvent | undefined> {
  const friend = !harness.line.state().blockedUserIds.includes(userId);
  switch (action) {
    case 'follow':
      harness.line.setBlocked(userId, false);
      return followEvent(userId, at, { follow: { isUnblocked: true } });
    case 'unfollow':
      harness.line.setBlocked(userId, true);
      return unfollowEvent(userId, at);
    case 'link': {
      if (!friend) return undefined;
      const nonce = LinkNonceStore.newNonce();
      const customer = { kind: 'mobile' as const, value: mobile };
      await nonces.issueNonce(nonce, { userId, destination: DESTINATION, customer, expiresAt: Date.now() + 600_000 });
      return accountLinkEvent(userId, at, nonce);
    }
    case 'unlink':
      return friend ? postbackEvent(userId, at, 'action=unlink') : undefined;
    case 'points':
      return friend ? postbackEvent(userId, at, 'action=points') : undefined;
  }
}

async function observe(
  harness: WorkerHarness,
  userIds: string[],
  asked: Map<string, Set<string>>,
  counts: LoyaltyRunResult['counts'],
): Promise<LoyaltyProblem[]> {
  const line = harness.line.state();
  const capillary = harness.capillary.state();
  const tierOf = (memberId: number) => capillary.loyalty[String(memberId)]?.tierNumber ?? 1;
  const tierName = (tierNumber: number) =>
    DEFAULT_LOYALTY_PROGRAM.tiers.find((tier) => tier.tierNumber === tierNumber)?.tierName;
  const menuOfMember = (memberId: number) => {
    const tierNumber = tierOf(memberId);
    const menu = menuForTier(MENU_MAP, { tierNumber, tierName: tierName(tierNumber) });
    return menu !== undefined && 'richMenuId' in menu ? menu.richMenuId : undefined;
  };
  const answersTo = (userId: string, tokens: Set<string>) =>
    line.sent.filter((sent) => sent.to === userId || (sent.replyToken !== undefined && tokens.has(sent.replyToken)))
      .length;
  const users = [];
  for (const userId of userIds) {
    const record = await harness.store.read({ destination: DESTINATION, userId });
    const friend = !line.blockedUserIds.includes(userId);
    if (friend && record?.linkedCustomerId !== undefined) counts.linkedFriends += 1;
    users.push({
      userId,
      record,
      friend,
      menu: line.userRichMenus[userId],
      answers: answersTo(userId, asked.get(userId) ?? new Set()),
      askedInChat: asked.get(userId)?.size ?? 0,
    });
  }
  counts.menusLinked = Object.keys(line.userRichMenus).length;
  return checkLoyalty({ users, menuOfMember });
}
