import { DEFAULT_CAPILLARY_ORG_ID } from '../../../../lib/config/channels';
import type { WorkerChannel } from '../../../../lib/config/worker-config';
import { CAPILLARY_DELETE_TYPE } from '../../../../lib/domain/identity-rules';
import { parseRichMenusByTier } from '../../../../lib/domain/loyalty-rules';
import { CAPILLARY_TIER_TYPE } from '../../../../lib/domain/tier-rules';
import type { LineWebhookEvent } from '../../../../lib/line/callback';
import { identityEvent } from '../../../../lib/notifications/identity-events';
import {
  accountLinkEvent,
  followEvent,
  lineUserId,
  postbackEvent,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import { LOCAL_CREDENTIALS } from '../../../../local/local-credentials';
import { RIG_CHANNEL, startWorkerHarness, type WorkerHarness } from '../../../../local/rigs/worker-rig';
import { MOBILE, nonceFor } from '../../../support/link-harness';

const SILVER = `richmenu-${'1'.repeat(32)}`;
const GOLD = `richmenu-${'2'.repeat(32)}`;
const STAR = `richmenu-${'3'.repeat(32)}`;
const TH_GOLD = `richmenu-${'4'.repeat(32)}`;
const TH = { channel: 'th', destination: `U${'7'.repeat(32)}` };
const TW = { channel: 'tw', destination: `U${'8'.repeat(32)}` };

const withMenus = (menus: Record<string, string>, channel: WorkerChannel = RIG_CHANNEL): WorkerChannel => ({
  ...channel,
  loyalty: { richMenusByTier: parseRichMenusByTier(menus, 'test').map! },
});
const channel = (id: 'th' | 'tw'): WorkerChannel => ({
  id,
  channelAccessToken: `token-${id}`,
  capillaryLineAccountId: `account-${id}`,
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
  destination: { th: TH, tw: TW }[id].destination,
});

let sequence = 0;
/** The tier event the notifications function queues for one user (its time is the notification's). */
const tierEvent = (userId: string, customerId: number, tierNumber: number, createdAt: number, tierName?: string) =>
  identityEvent(
    userId,
    { type: CAPILLARY_TIER_TYPE, customerId, tierNumber, ...(tierName ? { tierName } : {}) },
    `CAPILLARY-tier-${++sequence}`,
    createdAt,
  );

describe('worker: Capillary tier changes → the member menu (loyalty lane)', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  async function start(channels: WorkerChannel[] = [withMenus({ Silver: SILVER, Gold: GOLD })], lineStandIn = {}) {
    harness = await startWorkerHarness({ channels, lineStandIn });
    for (const id of [SILVER, GOLD, STAR, TH_GOLD]) harness.line.richMenus.create({ richMenuId: id });
  }

  async function linkedMember(via?: { channel: string; destination: string }, mobile = MOBILE) {
    const memberId =
      harness.capillary.customersWithIdentifier('mobile', mobile)[0]?.id ?? harness.capillary.addMember({ mobile });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: mobile }, { destination: via?.destination });
    await harness.run([accountLinkEvent(userId, Date.now(), nonce)], 1, via);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'link', action: 'linked' });
    return { memberId, userId };
  }

  const lastOutcome = () => harness.settled.at(-1)?.outcome;
  const menuOf = (userId: string) => harness.line.state().userRichMenus[userId];
  const perUserCalls = () => harness.line.calls().filter((call) => /^\/v2\/bot\/user\/[^/]+\/richmenu/.test(call.path));

  async function apply(event: LineWebhookEvent, via?: { channel: string; destination: string }) {
    await harness.run([event], 1, via);
    return lastOutcome();
  }

  it('up, down and renewed: each sets the new tier menu with one LINE call and no Capillary call', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    expect(menuOf(userId)).toBe(SILVER);
    const [lineBefore, capillaryBefore] = [perUserCalls().length, harness.capillary.calls().length];
    const t = Date.now() + 1000;
    // Act: upgraded, downgraded, renewed (the map names tiers: the notifications carry the names)
    expect(await apply(tierEvent(userId, memberId, 2, t, 'GOLD'))).toEqual({ result: 'tier', action: 'linked' });
    expect(menuOf(userId)).toBe(GOLD);
    await apply(tierEvent(userId, memberId, 1, t + 1, 'silver'));
    expect(menuOf(userId)).toBe(SILVER);
    await apply(tierEvent(userId, memberId, 1, t + 2, 'Silver'));
    // Assess
    expect(menuOf(userId)).toBe(SILVER);
    expect(perUserCalls().length - lineBefore).toBe(3);
    expect(harness.capillary.calls().length - capillaryBefore).toBe(0);
  });

  it('a notification older than the last applied tier change is stale; the same one again a duplicate', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    const t = Date.now() + 1000;
    const newer = tierEvent(userId, memberId, 1, t + 10, 'Silver');
    await apply(tierEvent(userId, memberId, 2, t + 5, 'Gold'));
    await apply(newer);
    const calls = perUserCalls().length;
    // Act: the older upgrade arrives late, then the newer downgrade again
    expect(await apply(tierEvent(userId, memberId, 2, t))).toEqual({ result: 'skipped', reason: 'stale' });
    expect(await apply(newer)).toEqual({ result: 'skipped', reason: 'duplicate' });
    // Assess
    expect(menuOf(userId)).toBe(SILVER);
    expect(perUserCalls()).toHaveLength(calls);
  });

  it('a notification from before a completed link is stale: the link read the tier after it', async () => {
    await start();
    const before = Date.now() - 1000;
    harness.capillary.loyalty.setTier(harness.capillary.addMember({ mobile: MOBILE }), 'Gold');
    const { memberId, userId } = await linkedMember();
    expect(menuOf(userId)).toBe(GOLD);
    expect(await apply(tierEvent(userId, memberId, 1, before))).toEqual({ result: 'skipped', reason: 'stale' });
    expect(menuOf(userId)).toBe(GOLD);
  });

  it('a user the record does not link to the member gets no per-user menu (unlinked; an anonymous customer)', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    expect(lastOutcome()).toMatchObject({ result: 'link', action: 'unlinked' });
    const stranger = lineUserId();
    await harness.run([followEvent(stranger, Date.now())]);
    const anonymous = harness.capillary.customersWithIdentifier('line', stranger)[0]?.id;
    // A per-user menu the anonymous user should not have (set by hand in LINE Official Account Manager, say).
    await fetch(`${harness.line.url}/v2/bot/user/${stranger}/richmenu/${GOLD}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_CREDENTIALS.lineChannelAccessToken}` },
    });
    expect(menuOf(stranger)).toBe(GOLD);
    // Act
    const t = Date.now() + 1000;
    const exMember = await apply(tierEvent(userId, memberId, 2, t));
    const anonymousUser = await apply(tierEvent(stranger, anonymous!, 2, t));
    // Assess
    expect([exMember, anonymousUser]).toEqual([
      { result: 'tier', action: 'removed' },
      { result: 'tier', action: 'removed' },
    ]);
    expect(harness.line.state().userRichMenus).toEqual({});
  });

  it('an unmapped tier: the "*" menu, or without "*" no per-user menu', async () => {
    await start([withMenus({ Silver: SILVER, '*': STAR })]);
    const { memberId, userId } = await linkedMember();
    await apply(tierEvent(userId, memberId, 3, Date.now() + 1000, 'Platinum'));
    expect(menuOf(userId)).toBe(STAR);
    await harness.close();
    await start([withMenus({ Silver: SILVER })]);
    const other = await linkedMember();
    expect(await apply(tierEvent(other.userId, other.memberId, 3, Date.now() + 1000))).toEqual({
      result: 'tier',
      action: 'removed',
    });
    expect(menuOf(other.userId)).toBeUndefined();
  });

  it('two channels: each LINE user of the member gets the menu of its own channel; no map, no LINE call', async () => {
    await start([withMenus({ Gold: GOLD }), withMenus({ Gold: TH_GOLD }, channel('th')), channel('tw')], {
      channelAccessToken: [LOCAL_CREDENTIALS.lineChannelAccessToken, 'token-th', 'token-tw'],
    });
    const onDefault = await linkedMember();
    const onTh = await linkedMember(TH);
    const t = Date.now() + 1000;
    await apply(tierEvent(onDefault.userId, onDefault.memberId, 2, t, 'Gold'));
    await apply(tierEvent(onTh.userId, onTh.memberId, 2, t, 'Gold'), TH);
    expect(menuOf(onDefault.userId)).toBe(GOLD);
    expect(menuOf(onTh.userId)).toBe(TH_GOLD);
    const calls = perUserCalls().length;
    expect(await apply(tierEvent(lineUserId(), onTh.memberId, 2, t), TW)).toEqual({ result: 'tier', action: 'no-map' });
    expect(perUserCalls()).toHaveLength(calls);
  });

  it('LINE refusing for good (the user blocked the account) is counted and recorded, not retried', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    harness.line.setBlocked(userId, true);
    const answer = await harness.run([tierEvent(userId, memberId, 2, Date.now() + 1000)]);
    expect(answer.batchItemFailures).toEqual([]);
    expect(lastOutcome()).toEqual({ result: 'tier', action: 'refused' });
  });

  it('a member who blocked the account while the tier changed gets the current menu when they follow again', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    harness.line.setBlocked(userId, true);
    await harness.run([unfollowEvent(userId, Date.now())]);
    harness.capillary.loyalty.setTier(memberId, 'Gold');
    expect(await apply(tierEvent(userId, memberId, 2, Date.now() + 1000, 'Gold'))).toMatchObject({ action: 'refused' });
    expect(menuOf(userId)).toBe(SILVER);
    // Act
    harness.line.setBlocked(userId, false);
    await harness.run([followEvent(userId, Date.now() + 2000)]);
    // Assess
    expect(menuOf(userId)).toBe(GOLD);
  });

  it('a user unlinked while blocked (LINE refused the removal) loses the per-user menu when they follow again', async () => {
    await start();
    const { userId } = await linkedMember();
    // the unlink was sent before the block and arrives after it: LINE refuses the removal
    const unlink = postbackEvent(userId, Date.now() + 500, 'action=unlink');
    harness.line.setBlocked(userId, true);
    await harness.run([unfollowEvent(userId, Date.now() + 400)]);
    await harness.run([unlink]);
    expect(menuOf(userId)).toBe(SILVER);
    // Act
    harness.line.setBlocked(userId, false);
    await harness.run([followEvent(userId, Date.now() + 2000)]);
    // Assess
    expect(menuOf(userId)).toBeUndefined();
  });

  it('LINE failing after its retries fails the event, so SQS delivers it again', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    harness.line.injectFault({ status: 503, times: 20, pathPrefix: '/v2/bot/user' });
    const answer = await harness.run([tierEvent(userId, memberId, 2, Date.now() + 1000)]);
    expect(answer.batchItemFailures).toHaveLength(1);
    expect(menuOf(userId)).toBe(SILVER);
  });

  it('a forgotten (PII-deleted) member loses the per-user menu', async () => {
    await start();
    const { memberId, userId } = await linkedMember();
    const deletion = identityEvent(
      userId,
      { type: CAPILLARY_DELETE_TYPE, customerId: memberId },
      'CAPILLARY-delete',
      Date.now(),
    );
    expect(await apply(deletion)).toMatchObject({ result: 'identity', action: 'forgotten' });
    expect(menuOf(userId)).toBeUndefined();
  });
});
