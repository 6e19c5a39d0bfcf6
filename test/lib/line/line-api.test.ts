import { LineApiError } from '../../../lib/line/errors';
import { LineApi, messageOf, type LineApiOptions } from '../../../lib/line/line-api';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

describe('LineApi against the LINE stand-in', () => {
  let line: LineStandIn;
  let pauses: number[];
  const api = (overrides: Partial<LineApiOptions> = {}) =>
    new LineApi({
      channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
      baseUrl: line.url,
      timeoutMs: 1000,
      sleep: async (ms) => {
        pauses.push(ms);
      },
      ...overrides,
    });

  beforeEach(async () => {
    line = await startLineStandIn();
    pauses = [];
  });
  afterEach(() => line.close());

  it('answers with the status, the JSON body and the request id, the token sent as a Bearer', async () => {
    const answer = await api().call('bot/info', '/v2/bot/info');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(expect.objectContaining({ userId: expect.any(String) }));
    expect(answer.requestId).toEqual(expect.any(String));
    expect((await api({ channelAccessToken: 'wrong' }).call('bot/info', '/v2/bot/info')).status).toBe(401);
  });

  it('repeats a read after 429 and 5xx with a growing pause, and answers once LINE does', async () => {
    line.injectFault({ status: 429, times: 1, pathPrefix: '/v2/bot/info' });
    line.injectFault({ status: 503, times: 1, pathPrefix: '/v2/bot/info' });

    const answer = await api().call('bot/info', '/v2/bot/info');

    expect(answer.status).toBe(200);
    expect(line.calls().map((call) => call.status)).toEqual([429, 503, 200]);
    expect(pauses).toEqual([500, 1000]);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    line.injectFault({ status: 503, times: 5, pathPrefix: '/v2/bot/info' });
    await expect(api({ maxAttempts: 2 }).call('bot/info', '/v2/bot/info')).rejects.toMatchObject({
      name: 'LineApiError',
      operation: 'bot/info',
      status: 503,
    });
    expect(line.calls()).toHaveLength(2);
  });

  it('makes a call that is not repeatable once, whatever LINE answers', async () => {
    line.injectFault({ status: 503, times: 5, pathPrefix: '/v2/bot/message/push' });
    await expect(
      api().call('push', '/v2/bot/message/push', { method: 'POST', body: { to: 'U1', messages: [] } }),
    ).rejects.toMatchObject({ name: 'LineApiError', status: 503 });
    expect(line.calls()).toHaveLength(1);
    expect(pauses).toEqual([]);
  });

  it('names a timeout and an unreachable host as such', async () => {
    line.configure({ latencyMs: 300 });
    await expect(api({ timeoutMs: 50, maxAttempts: 1 }).call('bot/info', '/v2/bot/info')).rejects.toMatchObject({
      status: 'timeout',
    });
    const unreachable = api({ baseUrl: 'http://127.0.0.1:1', maxAttempts: 1 }).call('bot/info', '/v2/bot/info');
    await expect(unreachable).rejects.toBeInstanceOf(LineApiError);
    await expect(unreachable).rejects.toMatchObject({ status: 'network-error' });
  });
});

describe('messageOf', () => {
  it("quotes LINE's message, says when the answer was not JSON, and is empty otherwise", () => {
    expect(messageOf({ message: 'Invalid reply token' })).toBe('(Invalid reply token)');
    expect(messageOf(undefined)).toBe('(the answer is not JSON)');
    expect(messageOf({})).toBe('');
  });
});
