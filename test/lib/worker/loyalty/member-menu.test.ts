import { DEFAULT_CAPILLARY_ORG_ID } from '../../../../lib/config/channels';
import type { WorkerChannel } from '../../../../lib/config/worker-config';
import { parseRichMenusByTier } from '../../../../lib/domain/loyalty-rules';
import { accountLinkEvent, lineUserId, postbackEvent } from '../../../../local/line-event-factory';
import { RIG_CHANNEL, startWorkerHarness, type WorkerHarness } from '../../../../local/rigs/worker-rig';
import { MOBILE, nonceFor } from '../../../support/link-harness';

const mapOf = (raw: Record<string, string>) => parseRichMenusByTier(raw, 'test').map!;
const withMenus = (menus: Record<string, string>, channel: WorkerChannel = RIG_CHANNEL): WorkerChannel => ({
  ...channel,
  loyalty: { richMenusByTier: mapOf(menus) },
});

/** Follows nothing first: the member links straight from the link page (LINE's accountLink). */
async function link(
  harness: WorkerHarness,
  userId: string,
  mobile = MOBILE,
  via?: { channel: string; destination: string },
) {
  const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: mobile }, { destination: via?.destination });
  await harness.run([accountLinkEvent(userId, Date.now(), nonce)], 1, via);
  expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'link', action: 'linked' });
}

describe("worker: the member's rich menu on link and unlink", () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  async function start(channels: WorkerChannel[], lineStandIn = {}) {
    harness = await startWorkerHarness({ channels, lineStandIn });
  }

  it("a completed link sets the current tier's menu (an alias resolved once); an unlink removes it", async () => {
    const silver = `richmenu-${'a'.repeat(32)}`;
    const gold = `richmenu-${'b'.repeat(32)}`;
    await start([withMenus({ Silver: silver, gold: 'gold-menu' })]);
    harness.line.richMenus.create({ richMenuId: silver });
    harness.line.richMenus.create({ richMenuId: gold, aliasId: 'gold-menu' });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    harness.capillary.loyalty.setTier(memberId, 'GOLD');
    const userId = lineUserId();
    // Act: link
    await link(harness, userId);
    // Assess
    expect(harness.line.state().userRichMenus[userId]).toBe(gold);
    // Act: unlink from chat
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'link', action: 'unlinked' });
    expect(harness.line.state().userRichMenus[userId]).toBeUndefined();
    // The alias was resolved and the menus checked once for the container, not per user.
    const aliasReads = harness.line.calls().filter((call) => call.path.startsWith('/v2/bot/richmenu/alias/'));
    expect(aliasReads).toHaveLength(1);
  });

  it('a tier with no entry gets the "*" menu; without "*" no per-user menu', async () => {
    const fallback = `richmenu-${'c'.repeat(32)}`;
    const platinum = `richmenu-${'d'.repeat(32)}`;
    await start([withMenus({ Platinum: platinum, '*': fallback })]);
    harness.line.richMenus.create({ richMenuId: fallback });
    harness.line.richMenus.create({ richMenuId: platinum });
    harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await link(harness, userId);
    expect(harness.line.state().userRichMenus[userId]).toBe(fallback);
  });

  it('without "*", a member whose tier has no entry keeps the default menu', async () => {
    const platinum = `richmenu-${'d'.repeat(32)}`;
    await start([withMenus({ 3: platinum })]);
    harness.line.richMenus.create({ richMenuId: platinum });
    harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await link(harness, userId);
    expect(harness.line.state().userRichMenus).toEqual({});
    // A channel with a map removes any per-user menu, so nothing is left from before.
    expect(harness.line.calls().filter((call) => call.method === 'DELETE')).toHaveLength(1);
  });

  it('two channels: each links its own map; a channel without a map calls no rich menu endpoint', async () => {
    const thGold = `richmenu-${'e'.repeat(32)}`;
    const via = {
      th: { channel: 'th', destination: `U${'1'.repeat(32)}` },
      tw: { channel: 'tw', destination: `U${'2'.repeat(32)}` },
    };
    const channel = (id: 'th' | 'tw'): WorkerChannel => ({
      id,
      channelAccessToken: `token-${id}`,
      capillaryLineAccountId: `account-${id}`,
      capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
      destination: via[id].destination,
    });
    await start([withMenus({ Gold: thGold }, channel('th')), channel('tw')], {
      channelAccessToken: ['token-th', 'token-tw'],
    });
    harness.line.richMenus.create({ richMenuId: thGold });
    const thMember = harness.capillary.addMember({ mobile: MOBILE });
    const twMember = harness.capillary.addMember({ mobile: '66899999999' });
    harness.capillary.loyalty.setTier(thMember, 'Gold');
    harness.capillary.loyalty.setTier(twMember, 'Gold');
    const thUser = lineUserId();
    const twUser = lineUserId();
    await link(harness, thUser, MOBILE, via.th);
    await link(harness, twUser, '66899999999', via.tw);
    expect(harness.line.state().userRichMenus).toEqual({ [thUser]: thGold });
    // One per-user call in all: the th member's link (paths mask the user ids).
    const perUser = harness.line.calls().filter((call) => /^\/v2\/bot\/user\/[^/]+\/richmenu/.test(call.path));
    expect(perUser.map((call) => call.method)).toEqual(['POST']);
  });

  it('LINE refusing (menu deleted) is counted, not retried: the link itself stands', async () => {
    const gold = `richmenu-${'f'.repeat(32)}`;
    await start([withMenus({ Silver: gold })]);
    harness.line.richMenus.create({ richMenuId: gold });
    harness.capillary.addMember({ mobile: MOBILE });
    const first = lineUserId();
    await link(harness, first);
    harness.line.richMenus.delete(gold);
    harness.capillary.addMember({ mobile: '66811111111' });
    const second = lineUserId();
    await link(harness, second, '66811111111');
    expect(harness.line.state().userRichMenus).toEqual({});
    expect(harness.settled.every((settled) => settled.error === undefined)).toBe(true);
  });
});
