import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { DEFAULT_CHANNEL_ID } from '../../../lib/config/channels';
import { parseRichMenusByTier } from '../../../lib/domain/loyalty-rules';
import { UserSyncStore } from '../../../lib/store/user-sync-store';
import { DESTINATION, lineUserId } from '../../../local/line-event-factory';
import { createUsersTable, RIG_CHANNEL, workerConfigFor } from '../../../local/rigs/worker-rig';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';
import { syncMemberMenus, type MenuSyncDeps } from '../../../ops/loyalty/menu-sync';
import { buildMenuSyncDeps } from '../../../ops/loyalty/menu-sync-deps';

const SILVER = `richmenu-${'1'.repeat(32)}`;
const GOLD = `richmenu-${'2'.repeat(32)}`;

describe('syncMemberMenus: existing members get their tier menu in bulk (stand-ins + dynalite)', () => {
  let capillary: CapillaryStandIn;
  let line: LineStandIn;
  const dynamo = new DynamoDBClient({});
  afterEach(async () => Promise.all([capillary.close(), line.close()]));
  afterAll(() => dynamo.destroy());

  async function setUp(members: number, goldEvery: number) {
    [capillary, line] = await Promise.all([startCapillaryStandIn(), startLineStandIn()]);
    for (const id of [SILVER, GOLD]) line.richMenus.create({ richMenuId: id });
    const tableName = await createUsersTable(dynamo);
    const store = new UserSyncStore(dynamo, tableName, 60_000);
    const users = { silver: [] as string[], gold: [] as string[], anonymous: [] as string[] };
    for (let index = 0; index < members; index++) {
      const userId = lineUserId();
      const memberId = capillary.addMember({ mobile: `6681${String(index).padStart(7, '0')}` });
      const gold = index % goldEvery === 0;
      if (gold) capillary.loyalty.setTier(memberId, 'Gold');
      const key = { destination: DESTINATION, userId };
      const facts = { type: 'accountLink', webhookEventId: `E-${userId}`, timestamp: 1, lane: 'link' as const };
      await store.claim(key, facts);
      await store.complete(key, facts, { customerId: memberId, linkedCustomerId: memberId });
      users[gold ? 'gold' : 'silver'].push(userId);
    }
    // A friend who never linked: no member, no menu.
    const anonymous = { destination: DESTINATION, userId: lineUserId() };
    await store.claim(anonymous, { type: 'follow', webhookEventId: 'E-anon', timestamp: 1 });
    await store.complete(anonymous, { type: 'follow', webhookEventId: 'E-anon', timestamp: 1 }, { customerId: 1 });
    const channel = {
      ...RIG_CHANNEL,
      destination: DESTINATION,
      loyalty: { richMenusByTier: parseRichMenusByTier({ Silver: SILVER, Gold: GOLD }, 'test').map! },
    };
    const config = workerConfigFor(tableName, capillary.url, line.url, {}, [channel]);
    return { deps: (await buildMenuSyncDeps(config, dynamo, DEFAULT_CHANNEL_ID)) as MenuSyncDeps, users };
  }

  const bulkCalls = () => line.calls().filter((call) => call.path === '/v2/bot/richmenu/bulk/link');

  it('links 600 members in ≤ 1 LINE call per 500 per menu, with progress; a rerun changes nothing', async () => {
    const { deps, users } = await setUp(600, 50);
    const progress: number[] = [];
    // Act
    const report = await syncMemberMenus(deps, { dryRun: false, onProgress: ({ read }) => progress.push(read) });
    // Assess
    expect(report).toMatchObject({
      members: 600,
      byMenu: { [SILVER]: users.silver.length, [GOLD]: users.gold.length },
      withoutMenu: 0,
      refusals: [],
    });
    const expectedCalls = Math.ceil(users.silver.length / 500) + Math.ceil(users.gold.length / 500);
    expect(expectedCalls).toBe(3);
    expect(report.lineCalls).toBe(expectedCalls);
    expect(bulkCalls()).toHaveLength(expectedCalls);
    const menus = line.state().userRichMenus;
    expect(users.gold.every((userId) => menus[userId] === GOLD)).toBe(true);
    expect(users.silver.every((userId) => menus[userId] === SILVER)).toBe(true);
    expect(Object.keys(menus)).toHaveLength(600);
    expect(progress.at(-1)).toBe(600);
    // Act: again
    const again = await syncMemberMenus(deps, { dryRun: false });
    expect(again.byMenu).toEqual(report.byMenu);
    expect(line.state().userRichMenus).toEqual(menus);
  }, 120_000);

  it('--dry-run reads and counts, and calls LINE for nothing', async () => {
    const { deps } = await setUp(4, 2);
    const report = await syncMemberMenus(deps, { dryRun: true });
    expect(report).toMatchObject({ members: 4, byMenu: { [SILVER]: 2, [GOLD]: 2 }, lineCalls: 0 });
    expect(bulkCalls()).toHaveLength(0);
    expect(line.state().userRichMenus).toEqual({});
  });
});
