import { LineApiError } from '../../../lib/line/errors';
import { BULK_LINK_MAX_USERS, RichMenuClient } from '../../../lib/line/rich-menu-client';
import { lineUserId } from '../../../local/line-event-factory';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { seededUserIds, startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

const GOLD = `richmenu-${'a'.repeat(32)}`;
const SILVER = `richmenu-${'b'.repeat(32)}`;

describe('RichMenuClient against the LINE stand-in', () => {
  let line: LineStandIn;
  let pauses: number[];
  const client = () =>
    new RichMenuClient({
      channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
      baseUrl: line.url,
      timeoutMs: 5000,
      sleep: async (ms) => {
        pauses.push(ms);
      },
    });
  const callsTo = (method: string, prefix: string) =>
    line.calls().filter((call) => call.method === method && call.path.startsWith(prefix));

  beforeEach(async () => {
    line = await startLineStandIn();
    line.richMenus.create({ richMenuId: GOLD, aliasId: 'tier-gold' });
    line.richMenus.create({ richMenuId: SILVER });
    pauses = [];
  });
  afterEach(() => line.close());

  describe('linkUser and unlinkUser', () => {
    it('links the menu to the user, replaces it, and removes it', async () => {
      const userId = lineUserId();

      expect(await client().linkUser(userId, SILVER)).toEqual({ done: true });
      expect(line.state().userRichMenus).toEqual({ [userId]: SILVER });
      expect(await client().linkUser(userId, GOLD)).toEqual({ done: true });
      expect(line.state().userRichMenus).toEqual({ [userId]: GOLD });
      expect(await client().unlinkUser(userId)).toEqual({ done: true });
      expect(line.state().userRichMenus).toEqual({});
    });

    it('answers a refusal, not a throw, for a deleted menu (404) and a user who blocked the account (400), without repeating', async () => {
      const userId = lineUserId();
      const blocker = lineUserId();
      line.setBlocked(blocker, true);
      line.richMenus.delete(SILVER);

      expect(await client().linkUser(userId, SILVER)).toEqual({
        done: false,
        refusal: { status: 404, requestId: expect.any(String), detail: '(Not found)' },
      });
      expect(await client().linkUser(blocker, GOLD)).toMatchObject({ done: false, refusal: { status: 400 } });
      expect(await client().unlinkUser(blocker)).toMatchObject({ done: false, refusal: { status: 400 } });
      expect(line.calls()).toHaveLength(3);
      expect(line.state().userRichMenus).toEqual({});
    });

    it('repeats a link after 429 and 5xx with a growing pause', async () => {
      const userId = lineUserId();
      line.injectFault({ status: 429, times: 1, pathPrefix: '/v2/bot/user/' });
      line.injectFault({ status: 500, times: 1, pathPrefix: '/v2/bot/user/' });

      expect(await client().linkUser(userId, GOLD)).toEqual({ done: true });

      expect(callsTo('POST', '/v2/bot/user/').map((call) => call.status)).toEqual([429, 500, 200]);
      expect(pauses).toHaveLength(2);
      expect(pauses[1]).toBeGreaterThan(pauses[0] ?? Infinity);
      expect(line.state().userRichMenus).toEqual({ [userId]: GOLD });
    });

    it('throws LineApiError when LINE keeps failing, and for an answer that is neither done nor refused', async () => {
      line.injectFault({ status: 503, times: 3, pathPrefix: '/v2/bot/user/' });
      await expect(client().unlinkUser(lineUserId())).rejects.toMatchObject({
        operation: 'unlink-rich-menu',
        status: 503,
      });

      const unauthorized = new RichMenuClient({ channelAccessToken: 'wrong', baseUrl: line.url, timeoutMs: 5000 });
      await expect(unauthorized.linkUser(lineUserId(), GOLD)).rejects.toBeInstanceOf(LineApiError);
    });
  });

  describe('bulkLink', () => {
    it('links every user in calls of at most 500, skipping those who blocked the account', async () => {
      const userIds = seededUserIds(1001, 'bulk');
      const blocker = userIds[700] ?? '';
      line.setBlocked(blocker, true);

      const result = await client().bulkLink(GOLD, userIds);

      expect(result).toEqual({ calls: 3, refusals: [] });
      const bodies = callsTo('POST', '/v2/bot/richmenu/bulk/link');
      expect(bodies.map((call) => call.status)).toEqual([202, 202, 202]);
      const linked = line.state().userRichMenus;
      expect(Object.keys(linked)).toHaveLength(1000);
      expect(linked[blocker]).toBeUndefined();
      expect(new Set(Object.values(linked))).toEqual(new Set([GOLD]));
      expect(BULK_LINK_MAX_USERS).toBe(500);
    });

    it('makes no call for no users, and reports a menu LINE does not have', async () => {
      expect(await client().bulkLink(GOLD, [])).toEqual({ calls: 0, refusals: [] });
      expect(line.calls()).toHaveLength(0);

      const result = await client().bulkLink(`richmenu-${'f'.repeat(32)}`, [lineUserId()]);

      expect(result).toEqual({ calls: 1, refusals: [expect.objectContaining({ status: 404 })] });
    });
  });

  describe('menuExists and resolveAlias', () => {
    it('tells a menu that exists from one that does not', async () => {
      expect(await client().menuExists(GOLD)).toBe(true);
      expect(await client().menuExists(`richmenu-${'0'.repeat(32)}`)).toBe(false);
    });

    it('resolves an alias to its menu id, and an unknown alias to undefined', async () => {
      expect(await client().resolveAlias('tier-gold')).toBe(GOLD);
      expect(await client().resolveAlias('tier-none')).toBeUndefined();
    });

    it('repeats an alias read after a 5xx', async () => {
      line.injectFault({ status: 502, times: 1, pathPrefix: '/v2/bot/richmenu/alias/' });

      expect(await client().resolveAlias('tier-gold')).toBe(GOLD);
      expect(callsTo('GET', '/v2/bot/richmenu/alias/').map((call) => call.status)).toEqual([502, 200]);
    });
  });

  describe('startLoading', () => {
    it('starts the animation for the user, the seconds rounded up to LINE’s steps of 5 within 5 to 60', async () => {
      const userId = lineUserId();

      expect(await client().startLoading(userId, 12)).toEqual({ done: true });
      await client().startLoading(userId, 0);
      await client().startLoading(userId, 90);

      expect(line.state().loadingAnimations).toEqual([
        { chatId: userId, loadingSeconds: 15 },
        { chatId: userId, loadingSeconds: 5 },
        { chatId: userId, loadingSeconds: 60 },
      ]);
    });

    it('answers a refusal for a user who blocked the account, and tries once only when LINE fails', async () => {
      const blocker = lineUserId();
      line.setBlocked(blocker, true);
      expect(await client().startLoading(blocker, 20)).toMatchObject({ done: false, refusal: { status: 400 } });

      line.injectFault({ status: 500, times: 1, pathPrefix: '/v2/bot/chat/loading/start' });
      await expect(client().startLoading(lineUserId(), 20)).rejects.toMatchObject({ status: 500 });
      expect(callsTo('POST', '/v2/bot/chat/loading/start')).toHaveLength(2);
    });
  });
});
