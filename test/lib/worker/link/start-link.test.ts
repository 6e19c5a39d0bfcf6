import { DESTINATION, lineUserId, postbackEvent, textMessageEvent } from '../../../../local/line-event-factory';
import type { WorkerHarness } from '../../../../local/rigs/worker-rig';
import { startLinkHarness } from '../../../support/link-harness';

describe('worker: starting the link in chat', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  const buttonUri = (sent: unknown): string =>
    (sent as { messages: { template: { actions: { uri: string }[] } }[] }).messages[0]!.template.actions[0]!.uri;

  it('answers the link postback with a button to the brand page carrying a fresh link token, by reply', async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    const response = await harness.run([postbackEvent(userId, Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toEqual([]);
    const [token] = harness.line.state().linkTokens;
    expect(token).toMatchObject({ userId });
    const [sent] = harness.line.state().sent;
    expect(sent).toMatchObject({ via: 'reply' });
    expect(buttonUri(sent)).toBe(`https://brand.example/line/link?linkToken=${encodeURIComponent(token!.linkToken)}`);
    expect(await harness.deps.link.nonces.findLinkToken(token!.linkToken, Date.now())).toEqual({
      userId,
      destination: DESTINATION,
    });
  });

  it('pushes instead when the reply token is too old, and honours a configured keyword', async () => {
    harness = await startLinkHarness({
      link: {
        chat: { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: 'link my card' },
      },
    });
    const userId = lineUserId();
    await harness.run([textMessageEvent(userId, Date.now() - 120_000, '  Link my card ')]);
    expect(harness.line.state().sent).toEqual([expect.objectContaining({ via: 'push', to: userId })]);
  });

  it('acknowledges a link postback LINE will not issue a token for (the user blocked the account since), without retrying', async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    harness.line.setBlocked(userId, true);
    const response = await harness.run([postbackEvent(userId, Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'rejected', reason: 'refused-by-line' });
    expect(harness.line.state().sent).toEqual([]);
  });

  it('retries a link postback while LINE answers 5xx', async () => {
    harness = await startLinkHarness();
    harness.line.injectFault({ status: 503, times: 1, pathPrefix: '/v2/bot/user/' });
    const response = await harness.run([postbackEvent(lineUserId(), Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-1)?.error?.name).toBe('LineApiError');
  });
});
