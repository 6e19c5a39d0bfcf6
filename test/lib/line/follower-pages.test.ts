import { FollowerCursorRejectedError, FollowerListUnavailableError, LineApiError } from '../../../lib/line/errors';
import {
  FOLLOWER_PAGE_LIMIT,
  insightDate,
  LineFollowersClient,
  type LineFollowersClientOptions,
} from '../../../lib/line/follower-pages';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { seededUserIds, startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

describe('insightDate', () => {
  it('is the day before, in UTC+9', () => {
    expect(insightDate(Date.UTC(2026, 2, 10, 14, 59))).toBe('20260309'); // 23:59 on the 10th in Tokyo
    expect(insightDate(Date.UTC(2026, 2, 10, 15, 0))).toBe('20260310'); // 00:00 on the 11th in Tokyo
    expect(insightDate(Date.UTC(2026, 0, 1, 0, 0))).toBe('20251231');
  });
});

describe('LineFollowersClient against the LINE stand-in', () => {
  let line: LineStandIn;
  const client = (overrides: Partial<LineFollowersClientOptions> = {}) =>
    new LineFollowersClient({
      channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
      baseUrl: line.url,
      timeoutMs: 5000,
      sleep: async () => {},
      ...overrides,
    });
  afterEach(() => line.close());

  it('pages through the followers in friend-add order, the last page without `next`', async () => {
    const followerIds = seededUserIds(5, 'follower-pages');
    line = await startLineStandIn({ followerIds });
    const followers = client({ pageSize: 2 });

    const first = await followers.page(undefined);
    const second = await followers.page(first.next);
    const last = await followers.page(second.next);

    expect([first.userIds, second.userIds, last.userIds]).toEqual([
      followerIds.slice(0, 2),
      followerIds.slice(2, 4),
      followerIds.slice(4),
    ]);
    expect(last).not.toHaveProperty('next');
    expect(line.calls()[0]!.path).toBe('/v2/bot/followers/ids?limit=2');
  });

  it("asks for LINE's largest page unless told otherwise", async () => {
    line = await startLineStandIn();
    await client().page(undefined);
    expect(line.calls()[0]!.path).toBe(`/v2/bot/followers/ids?limit=${FOLLOWER_PAGE_LIMIT}`);
  });

  it('names the two refusals the backfill handles: 403 (not Verified/Premium) and 400 on a continuation token', async () => {
    line = await startLineStandIn({ verified: false });
    await expect(client().page(undefined)).rejects.toBeInstanceOf(FollowerListUnavailableError);

    line.configure({ verified: true });
    await expect(client().page('made-up-token')).rejects.toBeInstanceOf(FollowerCursorRejectedError);
  });

  it('repeats a read LINE answered 5xx, and throws LineApiError once the attempts are spent', async () => {
    line = await startLineStandIn({ followerIds: seededUserIds(1, 'retry') });
    line.injectFault({ status: 503, times: 1, pathPrefix: '/v2/bot/followers/ids' });
    expect((await client().page(undefined)).userIds).toHaveLength(1);

    line.injectFault({ status: 500, times: 2, pathPrefix: '/v2/bot/followers/ids' });
    await expect(client({ maxAttempts: 2 }).page(undefined)).rejects.toMatchObject({
      name: 'LineApiError',
      operation: 'followers/ids',
      status: 500,
    });
  });

  it("answers the bot's own user id", async () => {
    line = await startLineStandIn();
    expect(await client().botUserId()).toBe(line.botUserId);
    await expect(client({ channelAccessToken: 'wrong' }).botUserId()).rejects.toMatchObject({
      name: 'LineApiError',
      operation: 'bot/info',
      status: 401,
    });
  });

  it('reads the follower counts of a day, and throws LineApiError for a malformed date', async () => {
    line = await startLineStandIn({ followerIds: seededUserIds(3, 'counts') });
    expect(await client().followerCounts('20260309')).toEqual({
      status: 'ready',
      followers: 3,
      targetedReaches: 3,
      blocks: 0,
    });
    const malformed = client().followerCounts('2026-03-09');
    await expect(malformed).rejects.toBeInstanceOf(LineApiError);
    await expect(malformed).rejects.toMatchObject({ operation: 'insight/followers', status: 400 });
  });
});

describe('LineFollowersClient on answers of an unexpected shape', () => {
  let fetchSpy: jest.SpiedFunction<typeof fetch>;
  const answering = (body: unknown) => {
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(Response.json(body));
    return new LineFollowersClient({ channelAccessToken: 't', baseUrl: 'https://line.invalid', timeoutMs: 5000 });
  };
  afterEach(() => fetchSpy.mockRestore());

  it('throws for a page without a userIds array of strings, and drops an empty `next`', async () => {
    await expect(answering({ userIds: [1, 2] }).page(undefined)).rejects.toThrow('answer has no userIds array');
    expect(await answering({ userIds: ['U1'], next: '' }).page(undefined)).toEqual({ userIds: ['U1'] });
  });

  it('keeps only the counts that are numbers', async () => {
    expect(await answering({ status: 'unready', followers: 'n/a', blocks: 2 }).followerCounts('20260309')).toEqual({
      status: 'unready',
      blocks: 2,
    });
    await expect(answering({ followers: 1 }).followerCounts('20260309')).rejects.toBeInstanceOf(LineApiError);
  });
});
