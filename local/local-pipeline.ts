/**
 * The whole bridge on one laptop, all on 127.0.0.1: dynalite and fauxqs holding the tables and queues
 * of serverless.yml, the Capillary and LINE stand-ins (unless real base URLs are configured), the real
 * webhook handler behind an HTTP server, and a poller feeding the real worker handler. The handlers
 * read their configuration from process.env (set here, as serverless.yml sets it), so one pipeline per process.
 */
import { createServer } from 'node:net';

import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type CreateTableInput,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';

import { buildBackfillDeps } from '../lib/backfill/backfill-deps';
import { perChannel, processBackfillTicks } from '../lib/backfill/process-backfill-ticks';
import { readBackfillConfig } from '../lib/config/backfill-config';
import type { RegistrationMode } from '../lib/config/capillary-registration';
import { CHANNEL_LIST_VARIABLES, DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import { readLinkApiConfig } from '../lib/config/link-api-config';
import { readNotificationsConfig } from '../lib/config/notifications-config';
import { ssmSecret } from '../lib/config/once-per-container';
import { readWebhookConfig } from '../lib/config/webhook-config';
import { readWorkerConfig } from '../lib/config/worker-config';
import type { UserSyncState } from '../lib/domain/sync-rules';
import { handleLinkRequest, LINK_API_ROUTES } from '../lib/link-api/handle-link-request';
import { buildLinkApiDeps } from '../lib/link-api/link-api-deps';
import { handleNotificationRequest } from '../lib/notifications/handle-notification-request';
import { buildNotificationsDeps } from '../lib/notifications/notifications-deps';
import { withTelemetry } from '../lib/observability/telemetry';
import { parseQueuedEvent } from '../lib/queue/queued-event';
import { createSqsClient } from '../lib/queue/sqs-client';
import { UserSyncStore } from '../lib/store/user-sync-store';
import { handleWebhookRequest } from '../lib/webhook/handle-webhook-request';
import type { RecordSettled } from '../lib/worker/handle-queued-event';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../lib/worker/worker-deps';
import {
  loadLocalResources,
  queueNamed,
  readServerlessYml,
  stageParams,
  type LocalResources,
  type Yaml,
} from '../ops/serverless-resources';
import { startAwsServers } from './aws-servers';
import { startBrandLoginPage } from './brand-login-page';
import { lambdaContext, type LocalFunction } from './lambda-context';
import { LOCAL_CREDENTIALS } from './local-credentials';
import { logSource } from './log-view';
import {
  DEFAULT_WEBHOOK_URL,
  LOCAL_ADMIN_PREFIX,
  namesOwnChannels,
  PIPELINE_ID,
  PipelineAdminClient,
  webhookUrlFor,
  type BackfillInvocationError,
  type EventAttempt,
  type LocalEndpoints,
  type LocalPipelineChannel,
  type LocalPipelineStatus,
  type LocalPorts,
  type LocalQueues,
  type LocalReset,
  type ServiceEndpoint,
} from './pipeline-admin-api';
import {
  depthOfQueues,
  pollersTogether,
  startQueuePoller,
  totalOf,
  type QueuePoller,
  type SettledBatch,
} from './queue-poller';
import {
  LOCAL_CHANNELS,
  LOCAL_TIER_MENUS,
  localChannel,
  localChannelsSetting,
  type LocalChannel,
} from './sample-events';
import { startCapillaryStandIn } from './standins/capillary-standin';
import { startLineStandIn, type LineStandIn } from './standins/line-standin';
import { AdminRequestError, startWebhookServer, type AdminRoutes } from './webhook-server';

export const LOCAL_STAGE = 'local';

const [LOCAL_DEFAULT_CHANNEL] = LOCAL_CHANNELS as [LocalChannel, ...LocalChannel[]];
/** The stand-in enforces serverless.yml's local limit and the worker paces itself to it. */
const LOCAL_CAPILLARY_RATE_LIMIT_RPM = Number(stageParams(LOCAL_STAGE).capillaryRateLimitRpm);

/**
 * A function as serverless.yml deploys it on `stage`: its name, memory and timeout (a `${param:…}` read from the
 * stage's params), so the local worker meets the same limits as the deployed one. The handlers' logs carry them.
 */
export function deployedFunction(stage: string, name: string): LocalFunction {
  const definition = (readServerlessYml().functions as Record<string, Yaml | undefined>)[name];
  if (definition === undefined) throw new Error(`serverless.yml declares no function ${name}`);
  const params = stageParams(stage);
  const numberOf = (field: string): number => {
    const raw = definition[field];
    const param = typeof raw === 'string' ? /^\$\{param:(\w+)\}$/.exec(raw)?.[1] : undefined;
    const value = Number(param === undefined ? raw : params[param]);
    if (!(value > 0)) throw new Error(`serverless.yml: function ${name} has no numeric ${field} on stage ${stage}`);
    return value;
  };
  return {
    name: `line-capillary-bridge-${stage}-${name}`,
    memoryMb: numberOf('memorySize'),
    timeoutSeconds: numberOf('timeout'),
  };
}

const WEBHOOK_FUNCTION = deployedFunction(LOCAL_STAGE, 'webhook');
const WORKER_FUNCTION = deployedFunction(LOCAL_STAGE, 'worker');
const BACKFILL_FUNCTION = deployedFunction(LOCAL_STAGE, 'backfill');
const LINK_API_FUNCTION = deployedFunction(LOCAL_STAGE, 'linkApi');
const NOTIFICATIONS_FUNCTION = deployedFunction(LOCAL_STAGE, 'capillaryNotifications');
/** Capillary's event notifications of the `default` org, as the stand-in (or a real org's webhook) posts them. */
const NOTIFICATIONS_PATH = '/capillary/notifications';

export interface LocalPipelineOptions {
  /** 0 = any free port */
  ports: LocalPorts;
  /** worker invocations at once (the event source mapping's maximumConcurrency) */
  concurrency: number;
  pollWaitSeconds: number;
  /** how long a failed message stays invisible before its retry; undefined = the queue's own (serverless.yml) */
  visibilityTimeoutSeconds?: number;
  /** set = use that Capillary instead of a stand-in (credentials then come from the environment) */
  capillaryBaseUrl?: string;
  /** set = use that LINE API instead of a stand-in (LINE_CHANNEL_ACCESS_TOKEN then comes from the environment) */
  lineApiBaseUrl?: string;
  registrationMode?: RegistrationMode;
}

export interface LocalPipeline {
  endpoints: LocalEndpoints;
  queues: LocalQueues;
  tableName: string;
  concurrency: number;
  registrationMode: RegistrationMode;
  channels: LocalPipelineChannel[];
  /** the channels are the sample ones (LOCAL_CHANNELS), with their local secrets */
  localChannels: boolean;
  status(): Promise<LocalPipelineStatus>;
  /** Queues, table, stand-ins and the worker's view back to a fresh start, together (docs/local.md#start-over). */
  reset(): Promise<LocalReset>;
  stop(): Promise<void>;
}

export class PortsInUseError extends Error {
  constructor(
    public readonly busy: { port: number; service: string }[],
    hint: string,
  ) {
    super(
      `Cannot start: ${busy.map(({ port, service }) => `port ${port} (${service})`).join(', ')} already in use on 127.0.0.1. ${hint}`,
    );
    this.name = 'PortsInUseError';
  }
}

const SERVICE_NAMES: Record<keyof LocalPorts, string> = {
  webhook: 'webhook HTTP server',
  sqs: 'SQS server, fauxqs',
  dynamodb: 'DynamoDB server, dynalite',
  capillary: 'Capillary stand-in',
  line: 'LINE API stand-in',
  brand: 'brand login page stand-in',
};

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** All busy ports in one message, before anything starts, with who probably holds them. */
async function assertPortsFree(ports: LocalPorts, wanted: (keyof LocalPorts)[]): Promise<void> {
  const checks = await Promise.all(
    wanted.map(async (name) => ({ name, free: ports[name] === 0 || (await isPortFree(ports[name])) })),
  );
  const busy = checks
    .filter(({ free }) => !free)
    .map(({ name }) => ({ port: ports[name], service: SERVICE_NAMES[name] }));
  if (busy.length === 0) return;
  const hint =
    busy.some(({ port }) => port === ports.webhook) &&
    (await new PipelineAdminClient(`http://127.0.0.1:${ports.webhook}/`).probe())
      ? `A local pipeline is already running (http://127.0.0.1:${ports.webhook}${LOCAL_ADMIN_PREFIX}status answers): use it, or stop it with Ctrl-C.`
      : 'Another `npm start`, LocalStack (4566) or DynamoDB Local (8000) may hold them: stop it, or pick other ports (npm start -- --help).';
  throw new PortsInUseError(busy, hint);
}

/** A queue the worker drains (an event source of its function) and its DLQ. */
interface WorkerQueue {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
}

interface CreatedQueues extends LocalQueues, WorkerQueue {
  /** the engagement events' own (serverless.yml EngagementQueue) */
  engagement: WorkerQueue;
  backfillQueueUrl: string;
  backfillQueueArn: string;
}

async function createQueues(sqs: SQSClient, resources: LocalResources): Promise<CreatedQueues> {
  const urls = new Map<string, string>();
  for (const queue of resources.queues) {
    // dead-letter queues come first
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes }),
    );
    urls.set(queue.name, QueueUrl as string);
  }
  const events = queueNamed(resources, 'EventsQueue');
  const deadLetter = queueNamed(resources, 'EventsDeadLetterQueue');
  const backfill = queueNamed(resources, 'BackfillQueue');
  const queueUrl = urls.get(events.name) as string;
  const backfillQueueUrl = urls.get(backfill.name) as string;
  const attributesOf = async (url: string) =>
    (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'VisibilityTimeout'] }),
      )
    ).Attributes ?? {};
  const attributes = await attributesOf(queueUrl);
  const engagementUrl = urls.get(queueNamed(resources, 'EngagementQueue').name) as string;
  return {
    engagement: {
      queueUrl: engagementUrl,
      queueArn: (await attributesOf(engagementUrl)).QueueArn as string,
      deadLetterQueueUrl: urls.get(queueNamed(resources, 'EngagementDeadLetterQueue').name) as string,
    },
    queueName: events.name,
    queueUrl,
    queueArn: attributes.QueueArn as string,
    deadLetterQueueName: deadLetter.name,
    deadLetterQueueUrl: urls.get(deadLetter.name) as string,
    maxReceiveCount: Number(
      (JSON.parse(events.attributes.RedrivePolicy as string) as { maxReceiveCount: number }).maxReceiveCount,
    ),
    visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout),
    backfillQueueUrl,
    backfillQueueArn: (await attributesOf(backfillQueueUrl)).QueueArn as string,
  };
}

async function createTables(dynamo: DynamoDBClient, tables: CreateTableInput[]): Promise<string> {
  for (const table of tables) await dynamo.send(new CreateTableCommand(table));
  if (tables.length !== 1)
    throw new Error(`serverless.yml must define exactly one DynamoDB table, found ${tables.length}`);
  return tables[0]?.TableName as string;
}

/** The attempt log the replay reads: every delivery of a message to the worker, in order. */
class AttemptLog {
  readonly #attempts: EventAttempt[] = [];
  /** record settlements announced by the worker, waiting for their batch to settle */
  readonly #settled = new Map<string, RecordSettled>();

  readonly onRecordSettled = (settled: RecordSettled): void => {
    this.#settled.set(`${settled.messageId}#${settled.receiveCount}`, settled);
  };

  add(batch: SettledBatch): void {
    for (const record of batch.records) {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const key = `${record.messageId}#${receiveCount}`;
      const settled = this.#settled.get(key);
      this.#settled.delete(key);
      const deleted = !batch.failedMessageIds.has(record.messageId);
      this.#attempts.push({
        seq: this.#attempts.length + 1,
        at: new Date().toISOString(),
        messageId: record.messageId,
        webhookEventId: settled?.webhookEventId ?? webhookEventIdOf(record),
        receiveCount,
        deleted,
        ...(settled?.outcome && deleted ? { outcome: settled.outcome } : {}),
        ...(deleted ? {} : { error: settled?.error ?? failureWithoutSettlement(batch) }),
      });
    }
  }

  since(seq: number): EventAttempt[] {
    return this.#attempts.slice(Math.max(0, seq));
  }

  get lastSeq(): number {
    return this.#attempts.length;
  }
}

/** A 2xx answer, as API Gateway maps the handler's result (a bare value is a 200). */
function isAccepted(result: APIGatewayProxyResultV2): boolean {
  const status = typeof result === 'object' && result.statusCode !== undefined ? result.statusCode : 200;
  return status >= 200 && status <= 299;
}

function webhookEventIdOf(record: SQSRecord): string | undefined {
  try {
    return parseQueuedEvent(record.body).event.webhookEventId;
  } catch {
    return undefined;
  }
}

/** A record failed without being processed: the handler failed, or an earlier record of its group did. */
function failureWithoutSettlement(batch: SettledBatch): { name: string; message: string } {
  if (batch.handlerError) return { name: batch.handlerError.name, message: batch.handlerError.message };
  return { name: 'NotProcessed', message: 'not processed: an earlier message of its group failed in the same batch' };
}

function requireParam(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) throw new AdminRequestError(`query parameter "${name}" is required`);
  return value;
}

interface StandIns {
  capillary: ServiceEndpoint;
  line: ServiceEndpoint;
  /** present when the LINE API is the stand-in: the account-link dialog needs the webhook's address */
  lineStandIn?: LineStandIn;
  /** forgets what each stand-in holds (customers, profiles, faults, calls, settings) */
  reset(): void;
}

/** A stand-in for each service without a configured base URL, and the credentials the worker needs for it. */
async function startStandIns(options: LocalPipelineOptions, stopStack: (() => Promise<void>)[]): Promise<StandIns> {
  const resets: (() => void)[] = [];
  let capillary: ServiceEndpoint;
  if (options.capillaryBaseUrl === undefined) {
    const rateLimitPerMinute = Number(process.env.CAPILLARY_RATE_LIMIT_RPM ?? LOCAL_CAPILLARY_RATE_LIMIT_RPM);
    const standIn = await startCapillaryStandIn({ port: options.ports.capillary, rateLimitPerMinute });
    stopStack.push(() => standIn.close());
    resets.push(() => standIn.reset());
    capillary = { url: standIn.url, standIn: true };
    Object.assign(process.env, {
      CAPILLARY_CLIENT_KEY: LOCAL_CREDENTIALS.capillaryClientKey,
      CAPILLARY_CLIENT_SECRET: LOCAL_CREDENTIALS.capillaryClientSecret,
      CAPILLARY_RATE_LIMIT_RPM: String(rateLimitPerMinute),
      CAPILLARY_BEHAVIOURAL_EVENTS_URL: standIn.behaviouralEventsUrl,
      CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS: LOCAL_CREDENTIALS.capillaryBehaviouralEventsCredentials,
    });
    // The default local mapping (serverless.yml's local stage: the samples events/09–11), unless one is set.
    process.env.LINE_ENGAGEMENT_EVENTS ??= String(stageParams(LOCAL_STAGE).lineEngagementEvents);
  } else {
    capillary = { url: options.capillaryBaseUrl, standIn: false };
  }
  if (options.lineApiBaseUrl !== undefined) {
    return {
      capillary,
      line: { url: options.lineApiBaseUrl, standIn: false },
      reset: () => resets.forEach((reset) => reset()),
    };
  }
  // One LINE API for the local channels, each with its own token.
  const lineStandIn = await startLineStandIn({
    port: options.ports.line,
    channelAccessToken: LOCAL_CHANNELS.map((channel) => channel.channelAccessToken),
    // LINE's bot info for each token: the bot its webhooks name as destination.
    channels: LOCAL_CHANNELS.map((channel) => ({
      channelAccessToken: channel.channelAccessToken,
      botUserId: channel.destination,
    })),
  });
  stopStack.push(() => lineStandIn.close());
  // The menus the local channels map tiers to, as the brand would have created them (kept by a reset).
  const createTierMenus = () =>
    LOCAL_TIER_MENUS.forEach(({ richMenuId, name }) => lineStandIn.richMenus.create({ richMenuId, name }));
  createTierMenus();
  resets.push(() => {
    lineStandIn.reset();
    createTierMenus();
  });
  if (process.env.LINE_CHANNEL_SECRET || process.env.LINE_CHANNEL_SECRET_PARAM)
    process.env.LINE_CHANNEL_ACCESS_TOKEN = LOCAL_DEFAULT_CHANNEL.channelAccessToken;
  // The brand page redirects the browser here; the stand-in then sends the signed accountLink event.
  process.env.LINE_ACCOUNT_LINK_URL = `${lineStandIn.url}/dialog/bot/accountLink`;
  return {
    capillary,
    line: { url: lineStandIn.url, standIn: true },
    lineStandIn,
    reset: () => resets.forEach((reset) => reset()),
  };
}

/** Starts everything or nothing: a failure part-way stops what already started. */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const { ports } = options;
  await assertPortsFree(ports, [
    'webhook',
    'sqs',
    'dynamodb',
    'brand',
    ...(options.capillaryBaseUrl === undefined ? (['capillary'] as const) : []),
    ...(options.lineApiBaseUrl === undefined ? (['line'] as const) : []),
  ]);

  const log = new Logger({ serviceName: 'local-pipeline' });
  const stopStack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stopStack.splice(0).reverse())
      await stop().catch((error: unknown) => log.error('Stopping a local service failed', error as Error));
  };

  try {
    const aws = await startAwsServers({ dynamoPort: ports.dynamodb, sqsPort: ports.sqs });
    stopStack.push(() => aws.stop());
    // The SDK clients (the handlers' too) find the local servers through these standard variables.
    Object.assign(process.env, aws.env);
    const sqs = createSqsClient();
    const dynamo = new DynamoDBClient({});
    const resources = loadLocalResources(LOCAL_STAGE);
    const queues = await createQueues(sqs, resources);
    const tableName = await createTables(dynamo, resources.tables);

    const standIns = await startStandIns(options, stopStack);
    const { capillary, line, lineStandIn } = standIns;
    // Its link API address is known once the webhook server listens (port 0 picks one).
    let linkApiUrl = '';
    const brand = await startBrandLoginPage({
      port: ports.brand,
      linkApiUrl: () => linkApiUrl,
      linkApiToken: process.env.LINK_API_TOKEN ?? LOCAL_CREDENTIALS.linkApiToken,
    });
    stopStack.push(() => brand.close());
    Object.assign(process.env, {
      QUEUE_URL: queues.queueUrl,
      ENGAGEMENT_QUEUE_URL: queues.engagement.queueUrl,
      DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      BACKFILL_QUEUE_URL: queues.backfillQueueUrl,
      TABLE_NAME: tableName,
      CAPILLARY_BASE_URL: capillary.url,
      LINE_API_BASE_URL: line.url,
      ...(options.registrationMode ? { CAPILLARY_REGISTRATION_MODE: options.registrationMode } : {}),
    });
    // A developer's own channels win (a real channel secret for a tunnel from LINE); else the two local channels.
    const localChannels = !namesOwnChannels(process.env);
    if (localChannels) process.env.LINE_CHANNELS = localChannelsSetting();
    else if (!CHANNEL_LIST_VARIABLES.some((name) => process.env[name]))
      process.env.CAPILLARY_LINE_ACCOUNT_ID ??= LOCAL_DEFAULT_CHANNEL.capillaryLineAccountId;
    process.env.LINK_API_TOKEN ??= LOCAL_CREDENTIALS.linkApiToken;
    process.env.CAPILLARY_NOTIFICATIONS_TOKEN ??= LOCAL_CREDENTIALS.capillaryNotificationsToken;
    process.env.LINK_PAGE_URL ??= brand.linkPageUrl;
    // The handlers as functions/ builds them, with configuration read once from this environment: problems
    // surface now, not as every event failing its way into the DLQ.
    const webhookDeps = { config: await readWebhookConfig(process.env, ssmSecret), sqs };
    const workerConfig = await readWorkerConfig(process.env, ssmSecret);
    const { registrationMode } = workerConfig.capillary;
    const channels = workerConfig.channels.all.map(({ id, capillaryLineAccountId, destination }) => ({
      id,
      capillaryLineAccountId,
      ...(destination ? { destination } : {}),
    }));
    const attempts = new AttemptLog();
    const workerDeps = { ...buildSyncDeps(workerConfig, dynamo), onSettled: attempts.onRecordSettled };
    const webhookHandler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
      handleWebhookRequest(event, webhookDeps),
    );
    const linkApiDeps = buildLinkApiDeps(await readLinkApiConfig(process.env, ssmSecret), dynamo, sqs);
    const linkApiHandler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
      handleLinkRequest(event, linkApiDeps),
    );
    const linkApiContext = () => lambdaContext(LINK_API_FUNCTION);
    const notificationsDeps = buildNotificationsDeps(
      await readNotificationsConfig(process.env, ssmSecret),
      dynamo,
      sqs,
    );
    const notificationsHandler = withTelemetry(async (event: APIGatewayProxyEventV2) =>
      handleNotificationRequest(event, notificationsDeps),
    );
    const workerHandler = withTelemetry(async (event: SQSEvent, context: Context) =>
      processSqsBatch(event, context, workerDeps),
    );

    const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? queues.visibilityTimeoutSeconds;
    const localQueues: LocalQueues = {
      queueName: queues.queueName,
      deadLetterQueueName: queues.deadLetterQueueName,
      maxReceiveCount: queues.maxReceiveCount,
      visibilityTimeoutSeconds,
    };
    // Both event sources of the worker function: the events queue and the engagement queue, each with its instances.
    const startSourcePoller = ({ queueUrl, queueArn }: WorkerQueue, source: string) =>
      startQueuePoller({
        sqs,
        queueUrl,
        queueArn,
        handler: (event, context) => logSource.run('worker', () => workerHandler(event, context)),
        context: () => lambdaContext(WORKER_FUNCTION),
        concurrency: options.concurrency,
        waitTimeSeconds: options.pollWaitSeconds,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        onBatchReceived: (records) =>
          log.info('Worker invoked', {
            messages: records.length,
            events: records.map(
              (record) =>
                `${webhookEventIdOf(record) ?? record.messageId} (receive ${record.attributes.ApproximateReceiveCount})`,
            ),
          }),
        onBatchSettled: (batch) => {
          attempts.add(batch);
          logBatch(log, batch, localQueues);
        },
        onPollError: (error) => log.error(`Polling the ${source} queue failed`, error),
      });
    const startPoller = () =>
      pollersTogether([startSourcePoller(queues, 'events'), startSourcePoller(queues.engagement, 'engagement')]);
    let poller: QueuePoller = startPoller();
    stopStack.push(() => poller.stop());
    let lastBackfillError: BackfillInvocationError | undefined;
    stopStack.push(
      await startBackfillFunction({
        sqs,
        dynamo,
        queueUrl: queues.backfillQueueUrl,
        queueArn: queues.backfillQueueArn,
        log,
        onInvocationError: (error) => (lastBackfillError = error),
      }),
    );

    /**
     * One step for everything that holds state, so nothing can point at what another part forgot (a user record
     * naming a customer the stand-in no longer has). Queues and table are deleted and created again, which also
     * forgets SQS's deduplication ids, as a fresh `npm start` would. The worker stops first: nothing is in flight.
     */
    const workerQueueUrls = [queues, queues.engagement].flatMap((queue) => [queue.queueUrl, queue.deadLetterQueueUrl]);
    const reset = async (): Promise<LocalReset> => {
      await poller.stop();
      try {
        await Promise.all(workerQueueUrls.map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))));
        await createQueues(sqs, resources);
        await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
        await createTables(dynamo, resources.tables);
        standIns.reset();
      } finally {
        poller = startPoller();
      }
      const services = [
        { name: 'Capillary', ...capillary },
        { name: 'LINE API', ...line },
      ];
      const result: LocalReset = {
        reset: [
          `queue ${queues.queueName}`,
          `DLQ ${queues.deadLetterQueueName}`,
          'engagement queue and DLQ',
          `table ${tableName}`,
          ...services.filter(({ standIn }) => standIn).map(({ name }) => `${name} stand-in`),
        ],
        untouched: services
          .filter(({ standIn }) => !standIn)
          .map(({ name, url }) => `${name} at ${url} (the real service)`),
      };
      log.info('Local pipeline reset', { ...result });
      return result;
    };
    let resetting: Promise<LocalReset> | undefined;

    // Filled once the server listens: the status route reports the server's own address.
    const adminRoutes: AdminRoutes = {};
    const webhook = await startWebhookServer({
      port: ports.webhook,
      handler: async (event, context) => {
        const result = await logSource.run('webhook', () => webhookHandler(event, context));
        // The replay and the demo play LINE: what the webhook accepted is what LINE delivered, and its follower list follows.
        if (lineStandIn !== undefined && event.body !== undefined && isAccepted(result))
          lineStandIn.recordDelivery(Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'));
        return result;
      },
      context: () => lambdaContext(WEBHOOK_FUNCTION),
      adminRoutes,
      functionRoutes: {
        ...Object.fromEntries(
          LINK_API_ROUTES.map((path) => [
            path,
            (event: APIGatewayProxyEventV2) => logSource.run('link-api', () => linkApiHandler(event, linkApiContext())),
          ]),
        ),
        [NOTIFICATIONS_PATH]: (event: APIGatewayProxyEventV2) =>
          logSource.run('capillary-notifications', () =>
            notificationsHandler(event, lambdaContext(NOTIFICATIONS_FUNCTION)),
          ),
      },
      onRequest: (request) => log.info('Webhook request received', request),
      onResponse: (response) => log.info('Webhook answered', response),
      onHandlerError: (error) => log.error('Webhook handler failed; answering 500 as API Gateway does', error),
    });
    // Stopped first: no new requests while the worker drains.
    stopStack.push(() => webhook.close());
    linkApiUrl = `${webhook.origin}/line/link`;
    // As Capillary's webhook would be configured (docs/deploy.md#capillary-event-notifications): the stand-in's merges
    // and PII deletions (POST /__admin/merge, /__admin/delete) reach the notifications function.
    if (capillary.standIn) {
      const answer = await fetch(`${capillary.url}/__admin/notifications`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          url: `${webhook.origin}${NOTIFICATIONS_PATH}`,
          authorization: `Bearer ${process.env.CAPILLARY_NOTIFICATIONS_TOKEN}`,
        }),
      });
      if (!answer.ok) throw new Error(`the Capillary stand-in refused its notifications URL (${answer.status})`);
    }
    // As LINE does: sign with the channel secret (the first, during a rotation), send to the bot's destination.
    const linkChannel = webhookDeps.config.channels.get(DEFAULT_CHANNEL_ID);
    if (lineStandIn !== undefined && linkChannel?.destination !== undefined) {
      lineStandIn.connectWebhook({
        url: webhook.webhookUrl,
        channelSecret: linkChannel.channelSecrets[0] ?? '',
        destination: linkChannel.destination,
      });
    }
    // What each channel's console would hold: the bot, this webhook URL (active) and the secret LINE signs with.
    for (const { id, channelAccessToken, destination } of workerConfig.channels.all) {
      lineStandIn?.setUpChannel({
        channelAccessToken,
        webhookEndpoint: webhookUrlFor(webhook.webhookUrl, id),
        webhookActive: true,
        channelSecret: webhookDeps.config.channels.get(id)?.channelSecrets[0] ?? '',
        ...(destination ? { botUserId: destination } : {}),
      });
    }
    const endpoints: LocalEndpoints = {
      webhookUrl: webhook.webhookUrl,
      adminUrl: `${webhook.origin}${LOCAL_ADMIN_PREFIX}`,
      sqs: aws.sqsEndpoint,
      dynamodb: aws.dynamoEndpoint,
      capillary,
      line,
      linkApiUrl,
      brandLoginPage: brand.url,
    };
    const status = async (): Promise<LocalPipelineStatus> => ({
      pipeline: PIPELINE_ID,
      drained: await poller.isDrained(),
      lastAttemptSeq: attempts.lastSeq,
      poller: { ...poller.counters(), inFlight: poller.inFlight() },
      queue: await depthOfQueues(sqs, [queues.queueUrl, queues.engagement.queueUrl]),
      deadLetterMessages: totalOf(
        await depthOfQueues(sqs, [queues.deadLetterQueueUrl, queues.engagement.deadLetterQueueUrl]),
      ),
      queues: localQueues,
      tableName,
      channels,
      localChannels,
      ...(lastBackfillError ? { lastBackfillError } : {}),
      endpoints,
    });
    const store = new UserSyncStore(dynamo, tableName, 0);
    Object.assign(adminRoutes, {
      'GET status': status,
      'GET attempts': (query: URLSearchParams) => attempts.since(Number(query.get('since') ?? 0)),
      /** ?destination=…&userIds=a,b → each user's DynamoDB record (null when there is none) */
      'GET user-records': async (query: URLSearchParams) => {
        const destination = requireParam(query, 'destination');
        const userIds = requireParam(query, 'userIds').split(',');
        const records = await Promise.all(userIds.map((userId) => store.read({ destination, userId })));
        return Object.fromEntries(
          userIds.map((userId, index): [string, UserSyncState | null] => [userId, records[index] ?? null]),
        );
      },
      /** Two resets at once are one reset. */
      'POST reset': () => (resetting ??= reset().finally(() => (resetting = undefined))),
    } satisfies AdminRoutes);
    return {
      endpoints,
      queues: localQueues,
      tableName,
      concurrency: options.concurrency,
      registrationMode,
      channels,
      localChannels,
      status,
      reset,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The backfill function as AWS runs it: its tick queue polled one message at a time, the real handler
 * with its configuration read from this environment (so `npm run backfill -- --stage local` drives it).
 */
async function startBackfillFunction(options: {
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  queueUrl: string;
  queueArn: string;
  log: Logger;
  onInvocationError(error: BackfillInvocationError): void;
}): Promise<() => Promise<void>> {
  const config = await readBackfillConfig(process.env, ssmSecret);
  const clients = { dynamo: options.dynamo, sqs: options.sqs };
  const deps = {
    forChannel: perChannel((channel) => buildBackfillDeps(config, clients, channel)),
    sqs: options.sqs,
    tickQueueUrl: config.tickQueueUrl,
  };
  const handler = withTelemetry(async (event: SQSEvent, context: Context) =>
    processBackfillTicks(event, context, deps),
  );
  const poller = startQueuePoller({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    queueArn: options.queueArn,
    handler: (event, context) => logSource.run('backfill', () => handler(event, context)),
    context: () => lambdaContext(BACKFILL_FUNCTION),
    concurrency: 1,
    waitTimeSeconds: 1,
    onBatchSettled: (batch) => {
      if (!batch.handlerError) return;
      options.log.error(
        'Backfill invocation failed: SQS retries its tick after the visibility timeout',
        batch.handlerError,
      );
      const channel = channelOfTick(batch.records[0]?.body);
      options.onInvocationError({
        at: new Date().toISOString(),
        ...(channel ? { channel } : {}),
        name: batch.handlerError.name,
        message: batch.handlerError.message,
      });
    },
    onPollError: (error) => options.log.error('Polling the backfill queue failed', error),
  });
  return () => poller.stop();
}

function channelOfTick(body: string | undefined): string | undefined {
  try {
    const channel = (JSON.parse(body ?? '') as { channel?: unknown }).channel;
    return typeof channel === 'string' ? channel : undefined;
  } catch {
    return undefined;
  }
}

function logBatch(log: Logger, batch: SettledBatch, queues: LocalQueues): void {
  const left = batch.records.filter((record) => batch.failedMessageIds.has(record.messageId));
  log.info('Worker batch settled', {
    messages: batch.records.length,
    deleted: batch.records.length - left.length,
    leftForRetry: left.length,
    ms: batch.durationMs,
  });
  if (batch.handlerError) log.error('Worker handler failed: the whole batch stays on the queue', batch.handlerError);
  for (const record of left) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const next =
      receiveCount >= queues.maxReceiveCount
        ? `moves to the DLQ ${queues.deadLetterQueueName} on its next receive (maxReceiveCount ${queues.maxReceiveCount})`
        : `retried once its visibility timeout ends, ${queues.visibilityTimeoutSeconds} s after it was received (receive ${receiveCount} of ${queues.maxReceiveCount})`;
    log.warn(`Message left on the queue: ${next}`, { event: webhookEventIdOf(record) ?? record.messageId });
  }
  if (batch.durationMs > queues.visibilityTimeoutSeconds * 1000) {
    log.warn(
      'The batch ran longer than the visibility timeout, so its messages were redelivered while still in flight; raise --visibility-timeout',
      {
        ms: batch.durationMs,
        visibilityTimeoutSeconds: queues.visibilityTimeoutSeconds,
      },
    );
  }
}

/** What runs where, and the commands to drive it: printed once the pipeline is ready. */
export function describeLocalPipeline(pipeline: LocalPipeline, readyMs: number): string {
  const { endpoints, queues } = pipeline;
  const service = ({ url, standIn }: ServiceEndpoint) =>
    standIn
      ? `${url}  stand-in; admin: GET ${url}/__admin/state | calls | faults | config`
      : `${url}  the real service (from the environment)`;
  const urlFlag = endpoints.webhookUrl === DEFAULT_WEBHOOK_URL ? '' : ` --url ${endpoints.webhookUrl}`;
  return [
    '',
    `Local pipeline ready in ${(readyMs / 1000).toFixed(1)} s`,
    ...pipeline.channels.map(({ id, capillaryLineAccountId }) => {
      const secret = pipeline.localChannels ? `, secret ${localChannel(id)?.channelSecret}` : '';
      return `  Webhook     POST ${webhookUrlFor(endpoints.webhookUrl, id)}  channel ${id}, Capillary account ${capillaryLineAccountId}${secret}`;
    }),
    `  Admin       GET ${endpoints.adminUrl}status | attempts?since=N | user-records?destination=…&userIds=…; POST …/reset`,
    `  Capillary   ${service(endpoints.capillary)}`,
    `  LINE API    ${service(endpoints.line)}`,
    `  Link API    POST ${endpoints.linkApiUrl}/nonce | /id-token | /unlink  (Authorization: Bearer ${process.env.LINK_API_TOKEN})`,
    `  Brand page  ${endpoints.brandLoginPage}/?linkToken=…  (stand-in for the brand's login; LINK_PAGE_URL)`,
    `  SQS         ${endpoints.sqs}  ${queues.queueName} → DLQ ${queues.deadLetterQueueName} after ${queues.maxReceiveCount} receives; retry after ${queues.visibilityTimeoutSeconds} s`,
    `  DynamoDB    ${endpoints.dynamodb}  ${pipeline.tableName}`,
    `  Worker      ${pipeline.concurrency} concurrent invocations of up to 10 messages; registration mode ${pipeline.registrationMode}`,
    '',
    `Replay the samples (another terminal):  npm run replay -- events/${urlFlag}`,
    ...LOCAL_CHANNELS.filter(
      ({ id }) => id !== DEFAULT_CHANNEL_ID && pipeline.channels.some((channel) => channel.id === id),
    ).map(
      ({ id, samplesDir }) =>
        `  and channel ${id}'s:                   npm run replay -- events/${samplesDir}/ --channel ${id}${urlFlag}`,
    ),
    `Make Capillary fail:                    npm run fault -- capillary 503 4${urlFlag}   (state | clear: the pending faults)`,
    `Start over (queues, table, stand-ins):  npm run fault -- reset${urlFlag}`,
    `Link a follower to a member:            npm run link -- --user U… --mobile 66812345678${urlFlag}`,
    'Ctrl-C stops everything.',
    '',
    '',
  ].join('\n');
}
