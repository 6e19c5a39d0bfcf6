import crypto from 'node:crypto';

import { SQSClient } from '@aws-sdk/client-sqs';

import type { WebhookConfig } from '../../../lib/config/webhook-config';
import { parseEngagementRules } from '../../../lib/domain/engagement-rules';
import { logger } from '../../../lib/observability/telemetry';
import { parseQueuedEvent } from '../../../lib/queue/queued-event';
import { createSqsClient } from '../../../lib/queue/sqs-client';
import { handleWebhookRequest } from '../../../lib/webhook/handle-webhook-request';
import {
  callbackBody,
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  textMessageEvent,
  unfollowEvent,
} from '../../../local/line-event-factory';
import { countCommands, createFifoQueue, receiveAll } from '../../../local/rigs/aws-kit';
import {
  engagementRoutingFor,
  signedWebhookRequest,
  webhookChannel,
  webhookConfigFor,
} from '../../../local/rigs/webhook-rig';
import { capturedOutput, metricRecords } from '../../support/captured-output';
import { startSqsRecorder } from '../../support/sqs-recorder';

const configFor = (queueUrl: string, overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  ...webhookConfigFor(queueUrl),
  ...overrides,
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
    expect(parseQueuedEvent(message!.Body!)).toEqual({ channel: 'default', destination: DESTINATION, event });
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
    const response = await handle(
      signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)]), { headerName: 'X-Line-Signature' }),
    );
    expect(response.statusCode).toBe(200);
  });

  it('verifies a base64-encoded body over its decoded bytes', async () => {
    // API Gateway base64-encodes bodies without a text content type
    const request = signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)]), {
      contentType: 'application/octet-stream',
    });
    expect(request.isBase64Encoded).toBe(true);
    expect((await handle(request)).statusCode).toBe(200);
    expect(await receiveAll(sqs, queueUrl)).toHaveLength(1);
  });

  it('verifies a body with escaped emoji exactly as sent, and passes the text on unchanged', async () => {
    const userId = lineUserId();
    const body =
      `{"destination":"${DESTINATION}","events":[{"type":"message","mode":"active","timestamp":5,` +
      `"source":{"type":"user","userId":"${userId}"},"webhookEventId":"01EMOJI0000000000000000000",` +
      `"deliveryContext":{"isRedelivery":false},"message":{"type":"text","id":"1","text":"\\uD83E\\uDD28 and 🤨"}}]}`;
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
    const events = Array.from({ length: 25 }, (_, i) =>
      i % 5 === 0 ? textMessageEvent(lineUserId(), i) : unfollowEvent(lineUserId(), i),
    );
    events.push({
      type: 'somethingNew',
      mode: 'active',
      timestamp: 99,
      webhookEventId: '01NEWTYPE00000000000000000',
      source: { type: 'group', groupId: 'Cabc' },
      deliveryContext: { isRedelivery: false },
    } as never);
    const response = await handle(signedWebhookRequest(callbackBody(events.slice(0, 25))));
    expect(response.statusCode).toBe(200);
    expect(commands.get('SendMessageBatchCommand')).toBe(3);
    expect(await receiveAll(sqs, queueUrl)).toHaveLength(25);
  });

  it('rejects a body for another bot when the channel names its destination', async () => {
    const response = await handle(
      signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)], 'Uffffffffffffffffffffffffffffffff')),
      webhookConfigFor(queueUrl, [webhookChannel({ destination: DESTINATION })]),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body as string)).toEqual({ message: 'unexpected destination' });
    expect(commands.size).toBe(0);
  });
});

describe('handleWebhookRequest with an engagement queue', () => {
  let sqs: SQSClient;
  let eventsQueue: string;
  let engagementQueue: string;
  const { rules } = parseEngagementRules(
    [{ type: 'postback', data: 'action=checkin*', event: 'line_checkin' }],
    'LINE_ENGAGEMENT_EVENTS',
  );

  beforeEach(async () => {
    sqs = createSqsClient();
    [{ queueUrl: eventsQueue }, { queueUrl: engagementQueue }] = await Promise.all([
      createFifoQueue(sqs),
      createFifoQueue(sqs),
    ]);
  });
  afterEach(() => sqs.destroy());

  const handle = (events: Parameters<typeof callbackBody>[0], rulesByChannel = new Map([['default', rules]])) =>
    handleWebhookRequest(signedWebhookRequest(callbackBody(events)), {
      config: configFor(eventsQueue, { engagement: engagementRoutingFor(engagementQueue, rulesByChannel) }),
      sqs,
    });

  it("queues a mapped tap on the engagement queue, in the user's FIFO group with its event id as dedup id", async () => {
    // Prepare
    const userId = lineUserId();
    const follow = followEvent(userId, 1);
    const tap = postbackEvent(userId, 2, 'action=checkin&store=7');
    // Other users: FIFO hides a group's later messages while one is in flight.
    const unlink = postbackEvent(lineUserId(), 3, 'action=unlink');
    const unmapped = postbackEvent(lineUserId(), 4, 'action=other');
    // Act
    const response = await handle([follow, tap, unlink, unmapped]);
    // Assess
    expect(JSON.parse(response.body as string)).toEqual({ enqueued: 4 });
    const [engaged, ...none] = await receiveAll(sqs, engagementQueue);
    expect(none).toHaveLength(0);
    expect(parseQueuedEvent(engaged!.Body!).event).toEqual(tap);
    expect(engaged!.Attributes?.MessageGroupId).toBe(`${DESTINATION}:${userId}`);
    expect(engaged!.Attributes?.MessageDeduplicationId).toBe(tap.webhookEventId);
    const onEvents = await receiveAll(sqs, eventsQueue);
    expect(onEvents.map((m) => parseQueuedEvent(m.Body!).event.webhookEventId).sort()).toEqual(
      [follow, unlink, unmapped].map((e) => e.webhookEventId).sort(),
    );
    expect(
      onEvents.find((m) => m.Attributes?.MessageDeduplicationId === follow.webhookEventId)?.Attributes,
    ).toMatchObject({ MessageGroupId: `${DESTINATION}:${userId}` });
  });

  it('sends nothing to the engagement queue for a channel without rules', async () => {
    const response = await handle([postbackEvent(lineUserId(), 1, 'action=checkin')], new Map());
    expect(response.statusCode).toBe(200);
    expect(await receiveAll(sqs, engagementQueue)).toHaveLength(0);
    expect(await receiveAll(sqs, eventsQueue)).toHaveLength(1);
  });
});

describe('handleWebhookRequest when SQS fails entries', () => {
  it('retries only the failed entries and answers 200 once all are queued', async () => {
    // Prepare: the first call fails entries 1 and 3; retries succeed
    const recorder = await startSqsRecorder((call) => (call === 1 ? ['1', '3'] : []));
    const sqs = new SQSClient({ endpoint: recorder.endpoint });
    const events = Array.from({ length: 5 }, (_, i) => followEvent(lineUserId(), i + 1));
    // Act
    const response = await handleWebhookRequest(signedWebhookRequest(callbackBody(events)), {
      config: configFor(`${recorder.endpoint}/000000000000/q.fifo`),
      sqs,
    });
    // Assess
    expect(response.statusCode).toBe(200);
    expect(recorder.calls.map((entries) => entries.map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3', '4'],
      ['1', '3'],
    ]);
    expect(recorder.accepted.map((e) => e.MessageDeduplicationId).sort()).toEqual(
      events.map((e) => e.webhookEventId).sort(),
    );
    sqs.destroy();
    await recorder.close();
  });

  it('answers 500 so LINE redelivers when an entry keeps failing', async () => {
    const recorder = await startSqsRecorder((_call, entries) => entries.filter((e) => e.Id === '0').map((e) => e.Id));
    const sqs = new SQSClient({ endpoint: recorder.endpoint });
    const response = await handleWebhookRequest(
      signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1), followEvent(lineUserId(), 2)])),
      { config: configFor(`${recorder.endpoint}/000000000000/q.fifo`), sqs },
    );
    expect(response.statusCode).toBe(500);
    expect(recorder.calls.length).toBe(3); // bounded retries
    sqs.destroy();
    await recorder.close();
  });
});

describe('handleWebhookRequest with several channels', () => {
  const BOT_TH = `U${'1'.repeat(32)}`;
  const BOT_TW = `U${'2'.repeat(32)}`;
  const channels = [
    webhookChannel({ id: 'th', channelSecrets: ['a'.repeat(32)], destination: BOT_TH }),
    webhookChannel({ id: 'tw', channelSecrets: ['b'.repeat(32), 'c'.repeat(32)], destination: BOT_TW }),
  ];
  let sqs: SQSClient;
  let queueUrl: string;
  let commands: Map<string, number>;
  beforeEach(async () => {
    sqs = createSqsClient();
    ({ queueUrl } = await createFifoQueue(sqs));
    commands = countCommands(sqs);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    sqs.destroy();
  });
  const handle = (request: ReturnType<typeof signedWebhookRequest>, configured = channels) =>
    handleWebhookRequest(request, { config: webhookConfigFor(queueUrl, configured), sqs });
  const signedFor = (channel: string, secret: string, destination: string, events = [followEvent(lineUserId(), 1)]) =>
    signedWebhookRequest(callbackBody(events, destination), { channel, secret });

  it("verifies with the secret of the channel in the path only: channel th's signature posted to tw gets 401", async () => {
    // Prepare
    const body = [followEvent(lineUserId(), 1)];
    // Act
    const toOther = await handle(signedFor('tw', 'a'.repeat(32), BOT_TH, body));
    const toOwn = await handle(signedFor('th', 'a'.repeat(32), BOT_TH, body));
    // Assess
    expect([toOther.statusCode, toOwn.statusCode]).toEqual([401, 200]);
    const [message, ...rest] = await receiveAll(sqs, queueUrl);
    expect(rest).toEqual([]);
    expect(parseQueuedEvent(message!.Body!)).toEqual({ channel: 'th', destination: BOT_TH, event: body[0] });
  });

  it('accepts either secret of a channel in rotation', async () => {
    const responses = await Promise.all(['b', 'c'].map((letter) => handle(signedFor('tw', letter.repeat(32), BOT_TW))));
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
  });

  it('answers 404 for an unknown channel without computing any HMAC or sending anything', async () => {
    // Prepare
    const hmac = jest.spyOn(crypto, 'createHmac');
    const request = signedFor('jp', 'a'.repeat(32), BOT_TH);
    hmac.mockClear(); // signing the test request used it
    // Act
    const response = await handle(request);
    // Assess
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body as string)).toEqual({ message: 'unknown channel' });
    expect(hmac).not.toHaveBeenCalled();
    expect(commands.size).toBe(0);
  });

  it('computes one HMAC per secret of the requested channel, however many channels there are', async () => {
    // Prepare: 50 channels, the requested one with a single secret
    const many = Array.from({ length: 50 }, (_, index) =>
      webhookChannel({ id: `c${index}`, channelSecrets: [`${index}`.padStart(32, 'x')] }),
    );
    const request = signedFor('c37', '37'.padStart(32, 'x'), BOT_TH);
    const hmac = jest.spyOn(crypto, 'createHmac');
    // Act
    const response = await handle(request, many);
    // Assess
    expect(response.statusCode).toBe(200);
    expect(hmac).toHaveBeenCalledTimes(1);
    const [algorithm, key] = hmac.mock.calls[0]!;
    expect([algorithm, (key as crypto.KeyObject).export().toString()]).toEqual(['sha256', '37'.padStart(32, 'x')]);
  });

  it('serves the channel default at POST /line/webhook, and 404 there when the list has no default', async () => {
    const withDefault = [...channels, webhookChannel()];
    expect(
      (await handle(signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)])), withDefault)).statusCode,
    ).toBe(200);
    expect((await handle(signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)])))).statusCode).toBe(404);
    const [message] = await receiveAll(sqs, queueUrl);
    expect(parseQueuedEvent(message!.Body!).channel).toBe('default');
  });

  it("refuses a body signed with the right secret but for another bot than the channel's destination", async () => {
    const response = await handle(signedFor('th', 'a'.repeat(32), BOT_TW));
    expect(response.statusCode).toBe(400);
    expect(commands.size).toBe(0);
  });

  it('counts a signature failure per channel and in total, and names the channel in its log line', async () => {
    // Act
    const output = await capturedOutput(() => handle(signedFor('tw', 'a'.repeat(32), BOT_TW)));
    // Assess
    const [record, ...others] = metricRecords(output, 'SignatureInvalid');
    expect(others).toEqual([]);
    expect(record).toMatchObject({ channel: 'tw', SignatureInvalid: 1 });
    expect(
      (record!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions,
    ).toEqual([['service', 'channel'], ['service']]);
    expect(output.filter((line) => line.level === 'WARN')).toEqual([
      expect.objectContaining({ channel: 'tw', signaturePresent: true }),
    ]);
  });

  it('writes nothing at INFO for a request it enqueues (SQS and the worker count those events)', async () => {
    const output = await capturedOutput(() => handle(signedFor('th', 'a'.repeat(32), BOT_TH)));
    expect(output).toEqual([]);
  });

  it('names the channel in the DEBUG line of a request it enqueues', async () => {
    const output = await capturedOutput(async () => {
      logger.setLogLevel('DEBUG');
      return handle(signedFor('th', 'a'.repeat(32), BOT_TH));
    });
    expect(output).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'Enqueued webhook events',
        channel: 'th',
        enqueued: 1,
        types: ['follow'],
      }),
    ]);
  });
});
