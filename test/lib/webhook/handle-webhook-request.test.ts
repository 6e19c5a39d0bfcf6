import { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../../lib/queue/sqs-client';
import type { WebhookConfig } from '../../../lib/config/config';
import { LOCAL_CHANNEL_SECRET } from '../../../local/sample-events';
import { parseQueuedEvent } from '../../../lib/queue/queued-event';
import { handleWebhookRequest } from '../../../lib/webhook/handle-webhook-request';
import { countCommands, createFifoQueue, receiveAll } from '../../../local/aws-kit';
import { DESTINATION, callbackBody, followEvent, lineUserId, signedWebhookRequest, textMessageEvent, unfollowEvent } from '../../../local/line-event-factory';
import { startSqsRecorder } from '../../support/sqs-recorder';

const configFor = (queueUrl: string, overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  channelSecrets: [LOCAL_CHANNEL_SECRET], queueUrl, expectedDestinations: [], maxBodyBytes: 1024 * 1024, ...overrides,
});

describe('handleWebhookRequest against the local SQS server', () => {
  let sqs: SQSClient;
  let commands: Map<string, number>;
  let queueUrl: string;

  beforeEach(async () => {
    sqs = createSqsClient();
    ({ queueUrl } = await createFifoQueue(sqs));
    commands = countCommands(sqs);
  });
  afterEach(() => sqs.destroy());

  const handle = (request: ReturnType<typeof signedWebhookRequest>, overrides: Partial<WebhookConfig> = {}) =>
    handleWebhookRequest(request, { config: configFor(queueUrl, overrides), sqs });

  it('enqueues a signed follow with its user as the FIFO group and webhookEventId as dedup id', async () => {
    // Prepare
    const userId = lineUserId();
    const event = followEvent(userId, 1_700_000_000_000);
    // Act
    const response = await handle(signedWebhookRequest(callbackBody([event])));
    // Assess
    expect(response.statusCode).toBe(200);
    const [message, ...rest] = await receiveAll(sqs, queueUrl);
    expect(rest).toHaveLength(0);
    expect(parseQueuedEvent(message!.Body!)).toEqual({ destination: DESTINATION, event });
    expect(message!.Attributes?.MessageGroupId).toBe(`${DESTINATION}:${userId}`);
    expect(message!.Attributes?.MessageDeduplicationId).toBe(event.webhookEventId);
  });

  it('answers 401 and enqueues nothing when the signature is missing or wrong', async () => {
    const body = callbackBody([followEvent(lineUserId(), 1)]);
    const missing = await handle(signedWebhookRequest(body, { signature: null }));
    const wrong = await handle(signedWebhookRequest(body, { secret: 'f'.repeat(32) }));
    expect([missing.statusCode, wrong.statusCode]).toEqual([401, 401]);
    expect(JSON.parse(missing.body as string).message).toMatch(/missing x-line-signature/);
    expect(commands.get('SendMessageBatchCommand')).toBeUndefined();
  });

  it('finds a signature header sent with other casing', async () => {
    const response = await handle(signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)]), { headerName: 'X-Line-Signature' }));
    expect(response.statusCode).toBe(200);
  });

  it('verifies a base64-encoded body over its decoded bytes', async () => {
    // API Gateway base64-encodes bodies without a text content type
    const request = signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)]), { contentType: 'application/octet-stream' });
    expect(request.isBase64Encoded).toBe(true);
    expect((await handle(request)).statusCode).toBe(200);
    expect(await receiveAll(sqs, queueUrl)).toHaveLength(1);
  });

  it('verifies a body with escaped emoji exactly as sent, and passes the text on unchanged', async () => {
    const userId = lineUserId();
    const body = `{"destination":"${DESTINATION}","events":[{"type":"message","mode":"active","timestamp":5,"source":{"type":"user","userId":"${userId}"},"webhookEventId":"01EMOJI0000000000000000000","deliveryContext":{"isRedelivery":false},"message":{"type":"text","id":"1","text":"\\uD83E\\uDD28 and 🤨"}}]}`;
    const response = await handle(signedWebhookRequest(body));
    expect(response.statusCode).toBe(200);
    const [message] = await receiveAll(sqs, queueUrl);
    expect((parseQueuedEvent(message!.Body!).event.message as { text: string }).text).toBe('🤨 and 🤨');
  });

  it('answers the console Verify request with 200 and sends nothing', async () => {
    const response = await handle(signedWebhookRequest(callbackBody([])));
    expect(response.statusCode).toBe(200);
    expect(commands.size).toBe(0);
  });

  it('answers 400 for a signed body that is not JSON or not a LINE callback', async () => {
    const notJson = await handle(signedWebhookRequest('hello'));
    const wrongShape = await handle(signedWebhookRequest('{"destination":"U1","events":[{"type":"follow"}]}'));
    expect([notJson.statusCode, wrongShape.statusCode]).toEqual([400, 400]);
    expect(JSON.parse(wrongShape.body as string).message).toMatch(/webhookEventId/);
    expect(commands.size).toBe(0);
  });

  it('answers 413 for a body over the size limit before checking anything else', async () => {
    const response = await handle(signedWebhookRequest('x'.repeat(2048), { signature: null }), { maxBodyBytes: 1024 });
    expect(response.statusCode).toBe(413);
  });

  it('sends 25 events in 3 SendMessageBatch calls and keeps unknown types and group events', async () => {
    const events = Array.from({ length: 25 }, (_, i) => (i % 5 === 0 ? textMessageEvent(lineUserId(), i) : unfollowEvent(lineUserId(), i)));
    events.push({ type: 'somethingNew', mode: 'active', timestamp: 99, webhookEventId: '01NEWTYPE00000000000000000', source: { type: 'group', groupId: 'Cabc' }, deliveryContext: { isRedelivery: false } } as never);
    const response = await handle(signedWebhookRequest(callbackBody(events.slice(0, 25))));
    expect(response.statusCode).toBe(200);
    expect(commands.get('SendMessageBatchCommand')).toBe(3);
    expect(await receiveAll(sqs, queueUrl)).toHaveLength(25);
  });

  it('rejects an unexpected destination when destinations are configured', async () => {
    const response = await handle(signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)], 'Uffffffffffffffffffffffffffffffff')), { expectedDestinations: [DESTINATION] });
    expect(response.statusCode).toBe(400);
  });
});

describe('handleWebhookRequest when SQS fails entries', () => {
  it('retries only the failed entries and answers 200 once all are queued', async () => {
    // Prepare: the first call fails entries 1 and 3; retries succeed
    const recorder = await startSqsRecorder((call) => (call === 1 ? ['1', '3'] : []));
    const sqs = new SQSClient({ endpoint: recorder.endpoint });
    const events = Array.from({ length: 5 }, (_, i) => followEvent(lineUserId(), i + 1));
    // Act
    const response = await handleWebhookRequest(signedWebhookRequest(callbackBody(events)), { config: configFor(`${recorder.endpoint}/000000000000/q.fifo`), sqs });
    // Assess
    expect(response.statusCode).toBe(200);
    expect(recorder.calls.map((entries) => entries.map((e) => e.Id))).toEqual([['0', '1', '2', '3', '4'], ['1', '3']]);
    expect(recorder.accepted.map((e) => e.MessageDeduplicationId).sort()).toEqual(events.map((e) => e.webhookEventId).sort());
    sqs.destroy();
    await recorder.close();
  });

  it('answers 500 so LINE redelivers when an entry keeps failing', async () => {
    const recorder = await startSqsRecorder((_call, entries) => entries.filter((e) => e.Id === '0').map((e) => e.Id));
    const sqs = new SQSClient({ endpoint: recorder.endpoint });
    const response = await handleWebhookRequest(signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1), followEvent(lineUserId(), 2)])),
      { config: configFor(`${recorder.endpoint}/000000000000/q.fifo`), sqs });
    expect(response.statusCode).toBe(500);
    expect(recorder.calls.length).toBe(3); // bounded retries
    sqs.destroy();
    await recorder.close();
  });
});
