/**
 * Loyalty chaos: members' tier changes in Capillary interleaved with their LINE users' follows, blocks, links,
 * unlinks and "my points", each delivered late (out of order) and again (LINE redeliveries, Capillary's repeated
 * notifications, SQS's repeated messages), through the real worker and the real notifications function over the
 * stand-ins and dynalite. loyalty-oracle.ts then checks the menus and the answers against the end state.
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
import { tierNotificationFields } from '../standins/capillary-notifier';
import { checkLoyalty, type LoyaltyProblem } from './loyalty-oracle';

export type LoyaltyAction = 'follow' | 'unfollow' | 'link' | 'unlink' | 'points';

export type LoyaltyStep =
  | { kind: 'line'; user: number; action: LoyaltyAction; lateBy: number; redeliveries: number }
  | { kind: 'tier'; member: number; tierNumber: number; lateBy: number; repeats: number };

export interface LoyaltyScenario {
  users: number;
  steps: LoyaltyStep[];
}

export function loyaltyScenarioArbitrary(users: number, steps: number): fc.Arbitrary<LoyaltyScenario> {
  const late = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 8 }) },
  );
  const again = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
  );
  const user = fc.integer({ min: 0, max: users - 1 });
  const step: fc.Arbitrary<LoyaltyStep> = fc.oneof(
    fc.record({
      kind: fc.constant('line' as const),
      user,
      action: fc.constantFrom<LoyaltyAction>('follow', 'unfollow', 'link', 'link', 'unlink', 'points'),
      lateBy: late,
      redeliveries: again,
    }),
    fc.record({
      kind: fc.constant('tier' as const),
      member: user,
      tierNumber: fc.integer({ min: 1, max: 3 }),
      lateBy: late,
      repeats: again,
    }),
  );
  return fc.record({ users: fc.constant(users), steps: fc.array(step, { minLength: steps, maxLength: steps }) });
}

export interface LoyaltyRunResult {
  problems: LoyaltyProblem[];
  counts: {
    lineEvents: number;
    tierNotifications: number;
    tierEvents: number;
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
  const members = mobiles.map((mobile) => harness.capillary.addMember({ mobile }));
  const { notifications, queued } = notificationsKeepingQueued('local-queue', harness.dynamo, harness.config.tableName);
  const nonces = new LinkNonceStore(harness.dynamo, harness.config.tableName);
  const asked = new Map<string, Set<string>>();
  const counts = { lineEvents: 0, tierNotifications: 0, tierEvents: 0, linkedFriends: 0, menusLinked: 0 };
  const pending: { due: number; deliver: () => Promise<void> }[] = [];
  let clock = 0;

  const deliverLine = (event: LineWebhookEvent) => async () => {
    counts.lineEvents += 1;
    await harness.run([event]);
  };
  const deliverNotification = (body: unknown) => async () => {
    counts.tierNotifications += 1;
    await handleNotificationRequest(notificationRequest(body), notifications);
    for (const message of queued.splice(0)) {
      const { channel, destination, event } = parseQueuedEvent(message);
      counts.tierEvents += 1;
      await harness.run([event], 1, { channel, destination });
      // SQS may deliver a message again: the loyalty lane takes it once.
      if (counts.tierEvents % 4 === 0) await harness.run([event], 2, { channel, destination });
    }
  };

  for (const [index, step] of steps.entries()) {
    clock = Math.max(clock + 1, Date.now());
    const at = index + step.lateBy;
    if (step.kind === 'tier') {
      const change = harness.capillary.loyalty.setTier(members[step.member] as number, step.tierNumber);
      const body = {
        ...tierNotificationFields(change, DEFAULT_LOYALTY_PROGRAM),
        eventId: randomUUID(),
        orgId: 1,
        createdAt: clock,
      };
      for (let repeat = 0; repeat <= step.repeats; repeat++)
        pending.push({ due: at + repeat * 3, deliver: deliverNotification(body) });
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
