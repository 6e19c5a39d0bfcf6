import { messagingApi } from '@line/bot-sdk';

import { seededUserIds, startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';
import { closedAfterEach } from '../../support/closed-after-each';

const TOKEN = 'local-channel-access-token';
const startStandIn = closedAfterEach(startLineStandIn);
const sdk = (standIn: LineStandIn) =>
  new messagingApi.MessagingApiClient({ channelAccessToken: TOKEN, baseURL: standIn.url });
const get = async (standIn: LineStandIn, path: string) => {
  const response = await fetch(`${standIn.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const postAdmin = (standIn: LineStandIn, route: string, body: unknown) =>
  fetch(`${standIn.url}/__admin/${route}`, { method: 'POST', body: JSON.stringify(body) });

describe('LINE stand-in: follower ids', () => {
  it('pages 1,000 at most with an opaque next token, read by the @line/bot-sdk client', async () => {
    // Prepare
    const followers = seededUserIds(2500, 'paging');
    const standIn = await startStandIn({ followerIds: followers });
    // Act
    const first = await sdk(standIn).getFollowers(undefined, 1000);
    const second = await sdk(standIn).getFollowers(first.next, 1000);
    const third = await sdk(standIn).getFollowers(second.next, 1000);
    // Assess
    expect([first.userIds.length, second.userIds.length, third.userIds.length]).toEqual([1000, 1000, 500]);
    expect([...first.userIds, ...second.userIds, ...third.userIds]).toEqual(followers);
    expect(first.next).toEqual(expect.any(String));
    expect(first.next).not.toContain('1000');
    expect(third.next).toBeUndefined();
  });

  it('defaults to 300 a page and refuses a limit above 1,000', async () => {
    const standIn = await startStandIn({ followerIds: seededUserIds(400, 'limit') });
    expect(((await get(standIn, '/v2/bot/followers/ids')).body.userIds as string[]).length).toBe(300);
    expect((await get(standIn, '/v2/bot/followers/ids?limit=1001')).status).toBe(400);
  });

  it('never skips a follower when others unfollow while someone pages', async () => {
    const followers = seededUserIds(20, 'stable');
    const standIn = await startStandIn({ followerIds: followers });
    const first = await sdk(standIn).getFollowers(undefined, 10);
    // Act: two of the first page leave
    standIn.setBlocked(followers[0]!, true);
    standIn.setBlocked(followers[1]!, true);
    const second = await sdk(standIn).getFollowers(first.next, 10);
    // Assess
    expect(second.userIds).toEqual(followers.slice(10));
  });

  it('answers 400 for a token that expired after 24 h or was tampered with', async () => {
    let now = Date.now();
    const standIn = await startStandIn({ followerIds: seededUserIds(5, 'expiry'), clock: () => now });
    const { next } = await sdk(standIn).getFollowers(undefined, 2);
    // Act + Assess
    expect((await get(standIn, `/v2/bot/followers/ids?limit=2&start=${next}x`)).status).toBe(400);
    expect((await get(standIn, `/v2/bot/followers/ids?limit=2&start=${next}`)).status).toBe(200);
    now += 24 * 3600 * 1000;
    expect(await get(standIn, `/v2/bot/followers/ids?limit=2&start=${next}`)).toEqual({
      status: 400,
      body: { message: 'The continuation token is invalid or has expired' },
    });
  });

  it('answers 403 for an account that is not Verified or Premium, switched by {"verified": false} on /__admin/config', async () => {
    const standIn = await startStandIn({ followerIds: seededUserIds(3, 'verified') });
    // Act
    const config = await postAdmin(standIn, 'config', { verified: false });
    // Assess
    expect(config.status).toBe(200);
    expect(await get(standIn, '/v2/bot/followers/ids')).toEqual({
      status: 403,
      body: { message: 'Access to this API is not available for your account' },
    });
    expect((await postAdmin(standIn, 'config', { verified: 'no' })).status).toBe(400);
  });

  it('is seeded through POST /__admin/followers with ids, or with a count and a seed (the same seed, the same ids)', async () => {
    const standIn = await startStandIn();
    const ids = seededUserIds(2, 'explicit');
    // Act
    const byIds = await (await postAdmin(standIn, 'followers', { userIds: ids })).json();
    const bySeed = await (await postAdmin(standIn, 'followers', { count: 3, seed: 42 })).json();
    const again = await (await postAdmin(standIn, 'followers', { count: 3, seed: 42 })).json();
    const bad = await postAdmin(standIn, 'followers', { userIds: ['not-a-user-id'] });
    // Assess
    expect([byIds, bySeed, again]).toEqual([
      { followers: 2, added: 2 },
      { followers: 5, added: 3 },
      { followers: 5, added: 0 },
    ]);
    expect(standIn.state().followerIds).toEqual([...ids, ...seededUserIds(3, 42)]);
    expect(bad.status).toBe(400);
  });
});

describe('LINE stand-in: follower counts and bot info', () => {
  it('counts first-time adds (never decreasing), current targeted reach and blocks', async () => {
    const followers = seededUserIds(4, 'counts');
    const standIn = await startStandIn({ followerIds: followers });
    standIn.setBlocked(followers[0]!, true);
    // Act
    const counts = await get(standIn, '/v2/bot/insight/followers?date=20261130');
    // Assess
    expect(counts).toEqual({ status: 200, body: { status: 'ready', followers: 4, targetedReaches: 3, blocks: 1 } });
    expect((await get(standIn, '/v2/bot/insight/followers?date=2026-11-30')).status).toBe(400);
  });

  it("gives the bot's own user id", async () => {
    const standIn = await startStandIn({ botUserId: 'U0123456789abcdef0123456789abcdef' });
    expect((await sdk(standIn).getBotInfo()).userId).toBe('U0123456789abcdef0123456789abcdef');
  });

  describe('follows what LINE delivered (the replay and the demo play LINE locally)', () => {
    const TW_TOKEN = 'local-channel-access-token-tw';
    const TW_BOT = 'U2e3d4c5b6a7988001122334455667788';
    const callback = (destination: string, events: [type: string, userId: string, timestamp: number][]) =>
      JSON.stringify({
        destination,
        events: events.map(([type, userId, timestamp]) => ({ type, timestamp, source: { type: 'user', userId } })),
      });
    const followersOf = async (standIn: LineStandIn, token: string) => {
      const response = await fetch(`${standIn.url}/v2/bot/followers/ids`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await response.json()) as { userIds: string[] }).userIds;
    };

    it("changes the delivering bot's list only, the newest event per user winning whatever the order of arrival", async () => {
      const [friend, leaver, late, stayer] = seededUserIds(4, 'delivered') as [string, string, string, string];
      const standIn = await startStandIn({ channelAccessToken: [TOKEN, TW_TOKEN], followerIds: [stayer] });
      standIn.setUpChannel({ channelAccessToken: TW_TOKEN, botUserId: TW_BOT });
      // Act
      standIn.recordDelivery(
        callback(TW_BOT, [
          ['follow', friend, 1000],
          ['unfollow', leaver, 3000],
          ['follow', leaver, 2000],
          ['message', late, 4000],
        ]),
      );
      standIn.recordDelivery(
        Buffer.from(
          callback(TW_BOT, [
            ['unfollow', friend, 500],
            ['follow', late, 5000],
          ]),
        ),
      );
      standIn.recordDelivery('not a callback');
      // Assess
      expect(await followersOf(standIn, TW_TOKEN)).toEqual([stayer, friend, late]);
      expect(await followersOf(standIn, TOKEN)).toEqual([stayer]);
      expect(standIn.state().followerIdsByBot).toEqual({ [TW_BOT]: [stayer, friend, late] });
    });

    it('keeps what its owner sets for every bot: an added follower and a block reach a bot with a list of its own', async () => {
      const [delivered, added] = seededUserIds(2, 'owner') as [string, string];
      const standIn = await startStandIn();
      standIn.recordDelivery(callback(standIn.botUserId, [['follow', delivered, 1000]]));
      // Act
      standIn.addFollowers([added]);
      standIn.setBlocked(delivered, true);
      // Assess
      expect(await followersOf(standIn, TOKEN)).toEqual([added]);
      expect(standIn.state().followerIds).toEqual([added]);
      await fetch(`${standIn.url}/__admin/reset`, { method: 'POST' });
      expect(await followersOf(standIn, TOKEN)).toEqual([]);
    });
  });
});
