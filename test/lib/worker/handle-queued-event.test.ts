import { maskUserId } from '../../../lib/observability/telemetry';
import { LinkNonceStore } from '../../../lib/store/link-nonce-store';
import { processSqsBatch } from '../../../lib/worker/process-sqs-batch';
import { lambdaContext } from '../../../local/lambda-context';
import {
  accountLinkEvent,
  followEvent,
  lineUserId,
  postbackEvent,
  textMessageEvent,
} from '../../../local/line-event-factory';
import { sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../../../local/rigs/worker-rig';
import { capturedOutput } from '../../support/captured-output';
import { apiCalls, userKey } from '../../support/link-harness';

describe('worker: one queued event, routed to its kind of work', () => {
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness();
  });
  afterEach(() => harness.close());

  it('acknowledges other event types without touching Capillary or DynamoDB', async () => {
    const userId = lineUserId();
    const response = await harness.run([textMessageEvent(userId, 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness)).toHaveLength(0);
    expect(await harness.store.read(userKey(userId))).toBeUndefined();
  });

  it('sends a message to the retry path when its body is not a queued LINE event', async () => {
    const record = { ...sqsRecordFor(followEvent(lineUserId(), 1)), body: 'garbage' };
    const response = await processSqsBatch(
      { Records: [record] },
      lambdaContext({ name: 't', memoryMb: 128, timeoutSeconds: 3 }),
      harness.deps,
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it("acknowledges LINE's failed result (no user, no reply token) without touching any record", async () => {
    const response = await harness.run([accountLinkEvent(lineUserId(), 2000, LinkNonceStore.newNonce(), 'failed')]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'rejected', reason: 'failed-at-line' });
    expect(apiCalls(harness)).toEqual([]);
  });

  it('ignores other postbacks and texts', async () => {
    await harness.run([
      postbackEvent(lineUserId(), Date.now(), 'action=buy'),
      textMessageEvent(lineUserId(), Date.now(), 'link'),
    ]);
    expect(harness.settled.map((s) => s.outcome)).toEqual([
      { result: 'ignored', reason: 'unsupported-type' },
      { result: 'ignored', reason: 'unsupported-type' },
    ]);
    expect(harness.line.state().linkTokens).toEqual([]);
  });

  it('claims the user record once for an event whose work changes it, and never for one it only acknowledges', async () => {
    // Prepare
    const claim = jest.spyOn(harness.store, 'claim');
    const userId = lineUserId();
    // Act
    const response = await harness.run([
      followEvent(userId, 1000),
      textMessageEvent(userId, 1500),
      postbackEvent(userId, Date.now(), 'action=unlink'),
      accountLinkEvent(lineUserId(), 2000, LinkNonceStore.newNonce(), 'failed'),
    ]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(claim.mock.calls.map(([key, event]) => [key.userId, event.type, event.lane])).toEqual([
      [userId, 'follow', 'sync'],
      [userId, 'postback', 'link'],
    ]);
  });

  it("logs every step of an event with the event's channel, id, type and masked user, never the raw user id", async () => {
    const userId = lineUserId();
    const follow = followEvent(userId, 1000);
    const output = await capturedOutput(() => harness.run([follow]));
    const steps = output.filter((line) => typeof line.message === 'string' && line.message.startsWith('Event '));
    expect(steps.map((line) => line.message)).toEqual(['Event claimed', 'Event applied and recorded']);
    for (const line of steps)
      expect(line).toMatchObject({
        channel: 'default',
        eventId: follow.webhookEventId,
        type: 'follow',
        user: maskUserId(userId),
      });
    expect(JSON.stringify(output)).not.toContain(userId);
  });

  it('names the event and its masked user on the line of a failed event', async () => {
    const userId = lineUserId();
    harness.capillary.injectFault({
      status: 503,
      times: harness.config.capillary.maxAttempts,
      pathPrefix: '/v2/customers',
    });
    const follow = followEvent(userId, 1000);
    const output = await capturedOutput(() => harness.run([follow]));
    expect(output.filter((line) => line.message === 'Event failed; it will be retried')).toEqual([
      expect.objectContaining({
        channel: 'default',
        eventId: follow.webhookEventId,
        user: maskUserId(userId),
        receiveCount: 1,
      }),
    ]);
  });
});
