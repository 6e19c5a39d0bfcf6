/**
 * Figures 1 and 2: the webhook's CPU per request against its physical floor, and its SendMessageBatch
 * calls per request. Measured in a child process started with the webhook's deployed environment
 * (INFO logs, EMF metrics) and its stdout discarded, so the handler does the same work as in Lambda;
 * the floor runs in that same process, interleaved with the handler. Two more series explain the gap:
 * the SDK's send() of the same batches alone, and the same handler over a client whose send() answers at
 * once: the handler's own work, measured on its own rather than as a difference of two larger medians.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';

import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

import { DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import { ssmSecret } from '../lib/config/once-per-container';
import { readWebhookConfig } from '../lib/config/webhook-config';
import { parseCallback, type LineWebhookEvent } from '../lib/line/callback';
import { withTelemetry } from '../lib/observability/telemetry';
import { toBatches, toEntries } from '../lib/queue/event-queue';
import { createSqsClient } from '../lib/queue/sqs-client';
import { handleWebhookRequest } from '../lib/webhook/handle-webhook-request';
import { lambdaContext } from '../local/lambda-context';
import { callbackBody, followEvent, lineUserId } from '../local/line-event-factory';
import { countCommands } from '../local/rigs/aws-kit';
import { signedWebhookRequest } from '../local/rigs/webhook-rig';
import { LOCAL_CHANNEL_SECRET } from '../local/sample-events';
import { ChildChannel } from './child-channel';
import type { DeployedFunction } from './deployment';
import { LocalSqsTransport } from './local-sqs-transport';
import type { BenchProfile } from './profiles';
import { byKey, median, round } from './stats';
import { renderTable } from './table';

type WebhookProfile = BenchProfile['webhook'];

export interface WebhookCpu {
  /** median CPU µs per request: the deployed handler, its SQS SDK send() calls alone, and the floor */
  handlerMicros: number;
  sdkSendMicros: number;
  floorMicros: number;
  /** median of the per-sample handler/floor ratios (adjacent samples share the machine's state) */
  ratio: number;
  /** the same without the SDK's share (handler − send() alone, per sample) over the floor */
  ratioWithoutSdk: number;
  /** the handler with a send() that answers at once: its own work, measured on its own */
  ownWorkMicros: number;
  /** median of the per-sample ownWork/floor ratios: the figure, neither side running the SDK */
  ownWorkRatio: number;
}

export interface WebhookFigures {
  cpu: Record<string, WebhookCpu>;
  sqsCallsPerRequest: Record<string, number>;
  /** median CPU µs of the same 1-event request with this many channels configured */
  cpuByChannels: Record<string, number>;
  /** median of the per-sample ratios to 1 channel (the path picks the channel: target 1 within noise) */
  cpuRatioByChannels: Record<string, number>;
}

/** Channels configured for the channel-scaling figure; the requested one is the same in every configuration. */
export const CHANNEL_COUNTS = [1, 50];

const QUEUE_URL = 'https://sqs.ap-northeast-1.amazonaws.com/000000000000/line-capillary-bridge-bench-events.fifo';

export function measureWebhook(profile: WebhookProfile, webhook: DeployedFunction): Promise<WebhookFigures> {
  const child = new ChildChannel(path.join(__dirname, 'webhook-cpu-child.ts'), [JSON.stringify(profile)], {
    PATH: process.env.PATH,
    ...webhook.environment,
    LINE_CHANNEL_SECRET: LOCAL_CHANNEL_SECRET,
    QUEUE_URL,
    AWS_REGION: 'ap-northeast-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  });
  return child.next<WebhookFigures>();
}

const followBody = (events: number): string =>
  callbackBody(Array.from({ length: events }, () => followEvent(lineUserId(), Date.now())));

/**
 * The least any webhook must do for this body: authenticate it, parse it, and build one SQS entry per
 * event. No validation, no telemetry, no SDK.
 */
function floorWork(body: string): number {
  const signature = createHmac('sha256', LOCAL_CHANNEL_SECRET).update(body).digest('base64');
  const { destination, events } = JSON.parse(body) as { destination: string; events: LineWebhookEvent[] };
  const entries = events.map((event, index) => ({
    Id: String(index),
    MessageBody: JSON.stringify({ destination, event }),
    MessageGroupId: `${destination}:${event.source?.userId}`,
    MessageDeduplicationId: event.webhookEventId,
  }));
  return signature.length + entries.length;
}

/** CPU of the whole process (GC threads included) per call, in µs. */
async function cpuMicrosPerCall(iterations: number, call: () => unknown): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < iterations; i += 1) {
    const result = call();
    if (result instanceof Promise) await result;
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / iterations;
}

/** How many calls take about `ms` of CPU (doubling until a quarter of it is reached, which also warms the JIT). */
async function iterationsFor(ms: number, call: () => unknown): Promise<number> {
  for (let iterations = 1; ; iterations *= 2) {
    const total = (await cpuMicrosPerCall(iterations, call)) * iterations;
    if (total >= (ms * 1000) / 4) return Math.max(1, Math.round((iterations * ms * 1000) / total));
  }
}

interface CpuSeries {
  handler: () => Promise<void>;
  sdkSend: () => Promise<unknown>;
  ownWork: () => Promise<void>;
  floor: () => number;
}

/** Interleaved samples of CPU µs per call of each series, after a warm-up of each. */
async function sampleCpu<K extends string>(
  profile: WebhookProfile,
  series: Record<K, () => unknown>,
): Promise<Record<K, number>[]> {
  const names = Object.keys(series) as K[];
  for (const name of names) await cpuMicrosPerCall(await iterationsFor(profile.warmupMs, series[name]), series[name]);
  const iterations = new Map<K, number>();
  for (const name of names) iterations.set(name, await iterationsFor(profile.sampleMs, series[name]));
  const samples: Record<K, number>[] = [];
  for (let sample = 0; sample < profile.samples; sample += 1) {
    // Rotate which goes first, so a drift in machine speed does not favour any series.
    const order = names.map((_, i) => names[(i + sample) % names.length] as K);
    const micros = {} as Record<K, number>;
    for (const name of order) micros[name] = await cpuMicrosPerCall(iterations.get(name) as number, series[name]);
    samples.push(micros);
  }
  return samples;
}

async function measureCpu(profile: WebhookProfile, series: CpuSeries): Promise<WebhookCpu> {
  const samples = await sampleCpu(profile, series);
  const medianOf = (value: (sample: Record<keyof CpuSeries, number>) => number) => median(samples.map(value));
  return {
    handlerMicros: round(
      medianOf((s) => s.handler),
      1,
    ),
    sdkSendMicros: round(
      medianOf((s) => s.sdkSend),
      1,
    ),
    floorMicros: round(
      medianOf((s) => s.floor),
      1,
    ),
    ratio: round(
      medianOf((s) => s.handler / s.floor),
      2,
    ),
    ratioWithoutSdk: round(
      medianOf((s) => (s.handler - s.sdkSend) / s.floor),
      2,
    ),
    ownWorkMicros: round(
      medianOf((s) => s.ownWork),
      1,
    ),
    ownWorkRatio: round(
      medianOf((s) => s.ownWork / s.floor),
      2,
    ),
  };
}

/** A LINE_CHANNELS list of `count` channels, `th` (signed with the local secret) among them. */
function channelList(count: number): string {
  return JSON.stringify(
    Array.from({ length: count }, (_, index) => ({
      id: index === 0 ? 'th' : `c${index}`,
      channelSecret:
        index === 0
          ? LOCAL_CHANNEL_SECRET
          : createHmac('sha256', 'bench').update(String(index)).digest('hex').slice(0, 32),
      channelAccessToken: `bench-token-${index}`,
      capillaryLineAccountId: `bench-account-${index}`,
    })),
  );
}

/**
 * The same signed 1-event request to /line/webhook/th with 1 and with 50 channels configured, each handler
 * built as functions/webhook.ts builds it from LINE_CHANNELS: the path picks the channel, so the figures
 * should not differ beyond noise (a handler trying every secret would cost 50 HMACs).
 */
async function measureChannelScaling(
  profile: WebhookProfile,
  context: ReturnType<typeof lambdaContext>,
): Promise<Pick<WebhookFigures, 'cpuByChannels' | 'cpuRatioByChannels'>> {
  const body = followBody(1);
  const request = signedWebhookRequest(body, { channel: 'th' });
  const series: Record<string, () => Promise<void>> = {};
  for (const count of CHANNEL_COUNTS) {
    const env = { ...process.env, LINE_CHANNEL_SECRET: undefined, LINE_CHANNELS: channelList(count) };
    const runtime = { config: await readWebhookConfig(env, ssmSecret), sqs: createSqsClient() };
    const transport = new LocalSqsTransport();
    transport.install(runtime.sqs);
    const callback = parseCallback(Buffer.from(body));
    transport.answer(toBatches(toEntries('th', callback.destination, callback.events)));
    const handler = withTelemetry(async (event: Parameters<typeof handleWebhookRequest>[0]) =>
      handleWebhookRequest(event, runtime),
    );
    series[count] = async () => {
      const response = await handler(request, context);
      if (response.statusCode !== 200)
        throw new Error(`webhook with ${count} channels answered ${response.statusCode}: ${response.body}`);
    };
  }
  const samples = await sampleCpu(profile, series);
  const [baseline] = CHANNEL_COUNTS as [number];
  return {
    cpuByChannels: byKey(CHANNEL_COUNTS, (count) => round(median(samples.map((sample) => sample[count] as number)), 1)),
    cpuRatioByChannels: byKey(CHANNEL_COUNTS, (count) =>
      round(median(samples.map((sample) => (sample[count] as number) / (sample[baseline] as number))), 2),
    ),
  };
}

/** Runs inside the child process (webhook-cpu-child.ts). */
export async function runWebhookMeasurements(profile: WebhookProfile): Promise<WebhookFigures> {
  // The handler exactly as functions/webhook.ts builds it.
  const runtime = { config: await readWebhookConfig(process.env, ssmSecret), sqs: createSqsClient() };
  const handler = withTelemetry(async (event: Parameters<typeof handleWebhookRequest>[0]) =>
    handleWebhookRequest(event, runtime),
  );
  const transport = new LocalSqsTransport();
  transport.install(runtime.sqs);
  const commands = countCommands(runtime.sqs);
  const context = lambdaContext({ name: 'bench-webhook', memoryMb: 256, timeoutSeconds: 5 });
  // The same handler over a client whose send() answers at once: everything it does but the SDK's send().
  const answeredAtOnce = { send: async () => ({ Successful: [], Failed: [] }) } as unknown as SQSClient;
  const ownWork = withTelemetry(async (event: Parameters<typeof handleWebhookRequest>[0]) =>
    handleWebhookRequest(event, { ...runtime, sqs: answeredAtOnce }),
  );

  /** Prepares the transport's answers for this body (the handler and sdkSend send the same batches). */
  const seriesFor = (body: string): CpuSeries => {
    const callback = parseCallback(Buffer.from(body));
    const batches = toBatches(toEntries(DEFAULT_CHANNEL_ID, callback.destination, callback.events));
    transport.answer(batches);
    const request = signedWebhookRequest(body);
    return {
      handler: async () => {
        const response = await handler(request, context);
        if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
      },
      sdkSend: () =>
        Promise.all(
          batches.map((entries) =>
            runtime.sqs.send(new SendMessageBatchCommand({ QueueUrl: runtime.config.queueUrl, Entries: entries })),
          ),
        ),
      ownWork: async () => {
        const response = await ownWork(request, context);
        if (response.statusCode !== 200) throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
      },
      floor: () => floorWork(body),
    };
  };

  const cpu: Record<string, WebhookCpu> = {};
  for (const events of profile.bodySizes) cpu[events] = await measureCpu(profile, seriesFor(followBody(events)));
  const sqsCallsPerRequest: Record<string, number> = {};
  for (const events of profile.callCountSizes) {
    const { handler: invoke } = seriesFor(followBody(events));
    commands.clear();
    await invoke();
    sqsCallsPerRequest[events] = commands.get('SendMessageBatchCommand') ?? 0;
  }
  return { cpu, sqsCallsPerRequest, ...(await measureChannelScaling(profile, context)) };
}

export function webhookTables(figures: WebhookFigures): string[] {
  return [
    renderTable(
      'Figure 1 — webhook CPU per request vs floor (HMAC + JSON.parse + entries), same process',
      [
        'events/body',
        'handler µs',
        'SQS SDK send() alone µs',
        'handler with send() answering at once µs',
        'floor µs',
        'ratio',
        'own work ratio (1 event: target ≤ 2)',
        'ratio without SDK (handler − send())',
      ],
      Object.entries(figures.cpu).map(([events, cpu]) => [
        events,
        cpu.handlerMicros,
        cpu.sdkSendMicros,
        cpu.ownWorkMicros,
        cpu.floorMicros,
        cpu.ratio,
        cpu.ownWorkRatio,
        cpu.ratioWithoutSdk,
      ]),
    ),
    renderTable(
      'Figure 2 — SendMessageBatch calls per webhook',
      ['events/body', 'calls', 'target ⌈n/10⌉'],
      Object.entries(figures.sqsCallsPerRequest).map(([events, calls]) => [
        events,
        calls,
        Math.ceil(Number(events) / 10),
      ]),
    ),
    renderTable(
      'Figure 1b — webhook CPU per 1-event request by channels configured (the path picks the channel)',
      ['channels', 'handler µs', 'ratio to 1 channel (target 1 within noise)'],
      Object.keys(figures.cpuByChannels).map((count) => [
        count,
        figures.cpuByChannels[count] ?? NaN,
        figures.cpuRatioByChannels[count] ?? NaN,
      ]),
    ),
  ];
}
