import { LineProfileClient } from '../../../lib/line/profile-client';
import { lineUserId } from '../../../local/line-event-factory';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

describe('LineProfileClient against the LINE stand-in', () => {
  let line: LineStandIn;
  const client = (overrides: Partial<ConstructorParameters<typeof LineProfileClient>[0]> = {}) =>
    new LineProfileClient({
      channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
      baseUrl: line.url,
      timeoutMs: 1000,
      ...overrides,
    });

  beforeEach(async () => {
    line = await startLineStandIn({ unknownUsers: 'not-found' });
  });
  afterEach(() => line.close());

  it('returns the display name of a friend', async () => {
    const userId = lineUserId();
    line.setProfile(userId, { displayName: 'Somchai' });
    expect(await client().lookup(userId)).toEqual({ found: true, displayName: 'Somchai' });
  });

  it('answers "not found" for a user who blocked the account, instead of throwing', async () => {
    const userId = lineUserId();
    line.setProfile(userId, { displayName: 'Somchai' });
    line.setBlocked(userId, true);
    expect(await client().lookup(userId)).toEqual({ found: false, reason: 'http-404' });
  });

  it('answers with the HTTP status for a rejected token', async () => {
    expect(await client({ channelAccessToken: 'wrong' }).lookup(lineUserId())).toEqual({
      found: false,
      reason: 'http-401',
    });
  });

  it('gives up after its timeout: a slow LINE API never holds a follow back', async () => {
    line.configure({ latencyMs: 500 });
    expect(await client({ timeoutMs: 100 }).lookup(lineUserId())).toEqual({ found: false, reason: 'timeout' });
  });

  it('answers "unavailable" when the API cannot be reached', async () => {
    expect(await client({ baseUrl: 'http://127.0.0.1:1' }).lookup(lineUserId())).toEqual({
      found: false,
      reason: 'network-error',
    });
  });
});
