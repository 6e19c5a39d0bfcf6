import { retryKeyOf } from '../../../../lib/worker/link/chat-answer';
import {
  accountLinkEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  textMessageEvent,
} from '../../../../local/line-event-factory';
import { startWorkerHarness, type WorkerHarness } from '../../../../local/rigs/worker-rig';
import { capturedOutput } from '../../../support/captured-output';
import { MOBILE, nonceFor } from '../../../support/link-harness';

describe('worker: "my points" in chat', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  async function linkedMember(): Promise<{ userId: string; memberId: number }> {
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    await harness.run([accountLinkEvent(userId, Date.now(), nonce)]);
    harness.line.reset();
    return { userId, memberId };
  }

  it('answers a linked member with the member card by reply, after the loading animation; no points in logs', async () => {
    harness = await startWorkerHarness();
    const { userId, memberId } = await linkedMember();
    harness.capillary.loyalty.setTier(memberId, 'Gold');
    harness.capillary.loyalty.setPoints(memberId, 12345, [{ points: 1500, expiryDate: '2126-04-27' }]);
    // Act
    const output = await capturedOutput(() => harness.run([postbackEvent(userId, Date.now(), 'action=points')]));
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'points', action: 'member-card' });
    const { sent, loadingAnimations } = harness.line.state();
    expect(loadingAnimations).toEqual([{ chatId: userId, loadingSeconds: 10 }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'reply', messages: [{ type: 'flex', altText: 'You have 12,345 points' }] });
    const card = JSON.stringify(sent[0]?.messages);
    expect(card).toContain('"12,345 points"');
    expect(card).toContain('"Tier: Gold"');
    expect(card).toContain('"1,500 points expire on 2126-04-27"');
    const logs = JSON.stringify(output);
    expect(logs).not.toContain('12345');
    expect(logs).not.toContain('12,345');
    expect(logs).not.toContain('Gold');
  });

  it('answers POINTS_KEYWORD too, and only from a one-to-one chat', async () => {
    harness = await startWorkerHarness({ loyalty: { pointsKeyword: 'My Points' } });
    const { userId } = await linkedMember();
    await harness.run([textMessageEvent(userId, Date.now(), ' my points ')]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'points', action: 'member-card' });
    const inGroup = postbackEvent(userId, Date.now(), 'action=points');
    inGroup.source = { type: 'group', groupId: 'Cgroup', userId };
    await harness.run([inGroup]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'ignored' });
  });

  it('gives a user who is not linked the link button of the linking flow', async () => {
    harness = await startWorkerHarness();
    const userId = lineUserId();
    await harness.run([postbackEvent(userId, Date.now(), 'action=points')]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'link-started' });
    const [answer] = harness.line.state().sent;
    expect(answer).toMatchObject({
      via: 'reply',
      messages: [
        { type: 'template', template: { actions: [{ type: 'uri', uri: expect.stringContaining('linkToken=') }] } },
      ],
    });
    expect(harness.line.state().loadingAnimations).toEqual([]);
  });

  it('answers "try again" when Capillary keeps failing: counted, acknowledged, never retried', async () => {
    harness = await startWorkerHarness();
    const { userId } = await linkedMember();
    harness.capillary.injectFault({
      status: 503,
      times: harness.config.capillary.maxAttempts,
      pathPrefix: '/v2/customers',
    });
    const result = await harness.run([postbackEvent(userId, Date.now(), 'action=points')]);
    expect(result.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'points', action: 'try-again' });
    expect(harness.line.state().sent).toEqual([
      expect.objectContaining({ messages: [{ type: 'text', text: expect.stringContaining('try again') }] }),
    ]);
  });

  it('pushes with the event retry key once the reply token is too old; a redelivery pushes nothing more (LINE takes the retry key once)', async () => {
    harness = await startWorkerHarness();
    const { userId } = await linkedMember();
    const old = postbackEvent(userId, Date.now() - 120_000, 'action=points');
    await harness.run([old]);
    await harness.run([redelivery(old)], 2);
    expect(harness.settled.map((settled) => settled.outcome).slice(-2)).toEqual([
      { result: 'points', action: 'member-card' },
      { result: 'points', action: 'member-card' },
    ]);
    const pushes = harness.line.calls().filter((call) => call.path === '/v2/bot/message/push');
    expect(pushes.map((call) => call.status)).toEqual([200, 409]);
    expect(harness.line.state().sent).toEqual([expect.objectContaining({ via: 'push', to: userId })]);
    expect(retryKeyOf(old.webhookEventId)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
