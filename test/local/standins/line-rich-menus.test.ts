import { lineUserId } from '../../../local/line-event-factory';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';
import { closedAfterEach } from '../../support/closed-after-each';

const startStandIn = closedAfterEach(startLineStandIn);
const GOLD = `richmenu-${'a'.repeat(32)}`;

async function api(standIn: LineStandIn, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${standIn.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? LOCAL_CREDENTIALS.lineChannelAccessToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function admin(standIn: LineStandIn, method: string, route: string, body?: unknown) {
  const response = await fetch(`${standIn.url}/__admin/${route}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('LINE stand-in: rich menus and the loading animation', () => {
  it('creates menus on the admin route (with an alias), and serves them and the alias', async () => {
    const standIn = await startStandIn();

    const created = await admin(standIn, 'POST', 'rich-menus', { richMenuId: GOLD, name: 'Gold', aliasId: 'gold' });
    const generated = await admin(standIn, 'POST', 'rich-menus');

    expect(created).toEqual({ status: 200, body: { richMenuId: GOLD, name: 'Gold', aliasIds: ['gold'] } });
    expect(generated.body.richMenuId).toMatch(/^richmenu-[0-9a-f]{32}$/);
    expect(await api(standIn, 'GET', `/v2/bot/richmenu/${GOLD}`)).toMatchObject({
      status: 200,
      body: { richMenuId: GOLD },
    });
    expect(await api(standIn, 'GET', '/v2/bot/richmenu/alias/gold')).toEqual({
      status: 200,
      body: { richMenuAliasId: 'gold', richMenuId: GOLD },
    });
    expect((await api(standIn, 'GET', '/v2/bot/richmenu/alias/silver')).status).toBe(404);
    expect((await admin(standIn, 'POST', 'rich-menus', { richMenuId: 'gold' })).status).toBe(400);
    expect((await admin(standIn, 'POST', 'rich-menus', { aliasId: 'Not An Alias' })).status).toBe(400);
  });

  it('moves an alias to the menu it is given to last', async () => {
    const standIn = await startStandIn();
    const silver = standIn.richMenus.create({ aliasId: 'tier' });

    standIn.richMenus.create({ richMenuId: GOLD, aliasId: 'tier' });

    expect((await api(standIn, 'GET', '/v2/bot/richmenu/alias/tier')).body.richMenuId).toBe(GOLD);
    expect(standIn.state().richMenus).toEqual([
      { richMenuId: silver.richMenuId, name: 'Local menu', aliasIds: [] },
      { richMenuId: GOLD, name: 'Local menu', aliasIds: ['tier'] },
    ]);
  });

  it('keeps each user’s linked menu in GET /__admin/state; 404 for an unknown menu, 400 for a blocked user', async () => {
    const standIn = await startStandIn();
    standIn.richMenus.create({ richMenuId: GOLD });
    const [member, blocker] = [lineUserId(), lineUserId()];
    standIn.setBlocked(blocker, true);

    expect(await api(standIn, 'POST', `/v2/bot/user/${member}/richmenu/${GOLD}`)).toEqual({ status: 200, body: {} });
    expect(await api(standIn, 'GET', `/v2/bot/user/${member}/richmenu`)).toEqual({
      status: 200,
      body: { richMenuId: GOLD },
    });
    expect((await api(standIn, 'POST', `/v2/bot/user/${member}/richmenu/richmenu-${'9'.repeat(32)}`)).status).toBe(404);
    expect((await api(standIn, 'POST', `/v2/bot/user/${blocker}/richmenu/${GOLD}`)).status).toBe(400);
    expect((await api(standIn, 'POST', `/v2/bot/user/not-a-user/richmenu/${GOLD}`)).status).toBe(400);
    expect((await admin(standIn, 'GET', 'state')).body.userRichMenus).toEqual({ [member]: GOLD });

    expect((await api(standIn, 'DELETE', `/v2/bot/user/${member}/richmenu`)).status).toBe(200);
    expect((await api(standIn, 'GET', `/v2/bot/user/${member}/richmenu`)).status).toBe(404);
    expect(standIn.state().userRichMenus).toEqual({});
  });

  it('unlinks a deleted menu from its users, as LINE does', async () => {
    const standIn = await startStandIn();
    standIn.richMenus.create({ richMenuId: GOLD, aliasId: 'gold' });
    const member = lineUserId();
    await api(standIn, 'POST', `/v2/bot/user/${member}/richmenu/${GOLD}`);

    const after = await admin(standIn, 'POST', 'rich-menus/delete', { richMenuId: GOLD });

    expect(after.body).toMatchObject({ richMenus: [], userRichMenus: {} });
    expect((await api(standIn, 'GET', `/v2/bot/richmenu/${GOLD}`)).status).toBe(404);
    expect((await api(standIn, 'GET', '/v2/bot/richmenu/alias/gold')).status).toBe(404);
  });

  it('bulk links 1 to 500 users with 202, and refuses other sizes and unknown menus', async () => {
    const standIn = await startStandIn();
    standIn.richMenus.create({ richMenuId: GOLD });
    const users = [lineUserId(), lineUserId()];

    expect(await api(standIn, 'POST', '/v2/bot/richmenu/bulk/link', { richMenuId: GOLD, userIds: users })).toEqual({
      status: 202,
      body: {},
    });
    expect(standIn.state().userRichMenus).toEqual({ [users[0] ?? '']: GOLD, [users[1] ?? '']: GOLD });
    const tooMany = Array.from({ length: 501 }, lineUserId);
    expect(
      (await api(standIn, 'POST', '/v2/bot/richmenu/bulk/link', { richMenuId: GOLD, userIds: tooMany })).status,
    ).toBe(400);
    expect((await api(standIn, 'POST', '/v2/bot/richmenu/bulk/link', { richMenuId: GOLD, userIds: [] })).status).toBe(
      400,
    );
    const unknown = { richMenuId: `richmenu-${'1'.repeat(32)}`, userIds: users };
    expect((await api(standIn, 'POST', '/v2/bot/richmenu/bulk/link', unknown)).status).toBe(404);
  });

  it('records the loading animation (20 s unless told), refusing a bad chat id or seconds', async () => {
    const standIn = await startStandIn();
    const member = lineUserId();

    expect(await api(standIn, 'POST', '/v2/bot/chat/loading/start', { chatId: member })).toEqual({
      status: 202,
      body: {},
    });
    expect(
      (await api(standIn, 'POST', '/v2/bot/chat/loading/start', { chatId: member, loadingSeconds: 7 })).status,
    ).toBe(400);
    expect((await api(standIn, 'POST', '/v2/bot/chat/loading/start', { chatId: 'C123' })).status).toBe(400);
    expect((await api(standIn, 'POST', '/v2/bot/chat/loading/start', { chatId: member }, 'wrong')).status).toBe(401);
    expect(standIn.state().loadingAnimations).toEqual([{ chatId: member, loadingSeconds: 20 }]);
  });

  it('forgets menus, links and animations on reset', async () => {
    const standIn = await startStandIn();
    standIn.richMenus.create({ richMenuId: GOLD });
    await api(standIn, 'POST', `/v2/bot/user/${lineUserId()}/richmenu/${GOLD}`);

    standIn.reset();

    expect(standIn.state()).toMatchObject({ richMenus: [], userRichMenus: {}, loadingAnimations: [] });
  });
});
