import { randomBytes } from 'node:crypto';

import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';

import type { CapillaryOrgConfig } from '../../lib/config/capillary-orgs';
import type { CapillaryConfig } from '../../lib/config/capillary-registration';
import { ById, DEFAULT_CAPILLARY_ORG_ID, DEFAULT_CHANNEL_ID } from '../../lib/config/channels';
import { DEFAULTS } from '../../lib/config/defaults';
import type { WorkerChannel, WorkerConfig } from '../../lib/config/worker-config';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { messageGroupId, serializeQueuedEvent } from '../../lib/queue/queued-event';
import type { UserRecordStore } from '../../lib/store/ports';
import type { RecordSettled, WorkerDeps } from '../../lib/worker/handle-queued-event';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../lib/worker/worker-deps';
import { loadLocalResources } from '../../ops/serverless-resources';
import { lambdaContext } from '../lambda-context';
import { toSqsEvent, toSqsRecord } from '../lambda-events';
import { DESTINATION } from '../line-event-factory';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import {
  startCapillaryStandIn,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../standins/capillary-standin';
import { startLineStandIn, type LineStandIn, type LineStandInOptions } from '../standins/line-standin';

export const LINE_ACCOUNT_ID = '2001914141242';
export const LOCAL_LINK_PAGE_URL = 'https://brand.example/line/link?linkToken={linkToken}';

/** The users table exactly as serverless.yml declares it, under a unique name on the local dynalite. */
export async function createUsersTable(dynamo: DynamoDBClient): Promise<string> {
  const [definition] = loadLocalResources('local').tables;
  const tableName = `users-${randomBytes(4).toString('hex')}`;
  await dynamo.send(new CreateTableCommand({ ...definition!, TableName: tableName }));
  // dynalite answers ResourceNotFound until the table is ACTIVE, which on a loaded machine is not at once.
  await waitUntilTableExists(
    { client: dynamo, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: tableName },
  );
  return tableName;
}

/** The single channel of the rig unless told otherwise: `default`, on the default org. */
export const RIG_CHANNEL: WorkerChannel = {
  id: DEFAULT_CHANNEL_ID,
  channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken,
  capillaryLineAccountId: LINE_ACCOUNT_ID,
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
};

/** The sync settings, plus the default org's credentials and rate limit. */
export type RigCapillarySettings = Partial<CapillaryConfig> &
  Partial<Pick<CapillaryOrgConfig, 'auth' | 'rateLimitPerMinute'>>;

export const RIG_CAPILLARY_AUTH: CapillaryOrgConfig['auth'] = {
  scheme: 'oauth',
  id: LOCAL_CREDENTIALS.capillaryClientKey,
  secret: LOCAL_CREDENTIALS.capillaryClientSecret,
  oauthHeaderName: DEFAULTS.CAPILLARY_OAUTH_HEADER,
};

export function workerConfigFor(
  tableName: string,
  capillaryUrl: string,
  lineUrl: string,
  { rateLimitPerMinute = 1_000_000, auth = RIG_CAPILLARY_AUTH, ...capillary }: RigCapillarySettings = {},
  channels: readonly WorkerChannel[] = [RIG_CHANNEL],
  otherOrgs: readonly CapillaryOrgConfig[] = [],
  link: Partial<WorkerConfig['link']> = {},
  engagement: WorkerConfig['engagement'] = { rulesByChannel: new Map(), posting: undefined },
  loyalty: Partial<WorkerConfig['loyalty']> = {},
): WorkerConfig {
  return {
    tableName,
    claimTtlSeconds: 60,
    channels: new ById(channels),
    line: { apiBaseUrl: lineUrl, profileTimeoutMs: 1000 },
    capillary: {
      subscriptionChannel: 'LINE',
      orgUnitId: -1,
      registrationMode: 'instore+line',
      externalIdPrefix: 'line_',
      subscribeOnRegister: true,
      registerProfilesTogether: false,
      bulkCountsAs: 'record',
      timeoutMs: 1000,
      maxAttempts: 3,
      ...capillary,
    },
    capillaryOrgs: new ById([
      {
        id: DEFAULT_CAPILLARY_ORG_ID,
        baseUrl: capillaryUrl,
        auth,
        rateLimitPerMinute,
      },
      ...otherOrgs,
    ]),
    link: {
      chat: { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: undefined },
      linkPageUrl: LOCAL_LINK_PAGE_URL,
      attachMethod: 'add-profile',
      mergeAutoApprove: false,
      anonymousCustomer: 'detach',
      replyTokenMaxAgeMs: 50_000,
      lineApiTimeoutMs: 1000,
      ...link,
    },
    engagement,
    loyalty: { pointsPostbackData: DEFAULTS.POINTS_POSTBACK_DATA, memberCardTexts: {}, ...loyalty },
  };
}

export interface WorkerHarness {
  capillary: CapillaryStandIn;
  line: LineStandIn;
  dynamo: DynamoDBClient;
  store: UserRecordStore;
  config: WorkerConfig;
  deps: WorkerDeps;
  /** every record settlement the worker reported, in order */
  settled: RecordSettled[];
  /** a fresh Lambda context, one per invocation: each with its own deadline */
  context(): Context;
  /** resolves when the worker reports the record with this message id settled */
  whenSettled(messageId: string): Promise<RecordSettled>;
  /** runs events through the real batch processor as one SQS batch, in the given order (default: channel `default`, bot DESTINATION) */
  run(
    events: LineWebhookEvent[],
    receiveCount?: number,
    via?: { channel?: string; destination?: string },
  ): Promise<SQSBatchResponse>;
  close(): Promise<void>;
}

let messageSequence = 0;
export function sqsRecordFor(
  event: LineWebhookEvent,
  receiveCount = 1,
  destination = DESTINATION,
  channel = DEFAULT_CHANNEL_ID,
): SQSRecord {
  return toSqsRecord(
    {
      MessageId: `m-${++messageSequence}`,
      Body: serializeQueuedEvent({ channel, destination, event }),
      Attributes: {
        MessageGroupId: messageGroupId(destination, event),
        MessageDeduplicationId: event.webhookEventId,
        ApproximateReceiveCount: String(receiveCount),
      },
    },
    'arn:aws:sqs:ap-northeast-1:000000000000:test.fifo',
  );
}

export async function startWorkerHarness(
  options: {
    capillary?: RigCapillarySettings;
    channels?: readonly WorkerChannel[];
    link?: Partial<WorkerConfig['link']>;
    /** the engagement settings, given the stand-in (its behavioural-events URL) */
    engagement?: (capillary: CapillaryStandIn) => WorkerConfig['engagement'];
    loyalty?: Partial<WorkerConfig['loyalty']>;
    capillaryStandIn?: CapillaryStandInOptions;
    lineStandIn?: LineStandInOptions;
  } = {},
): Promise<WorkerHarness> {
  const capillary = await startCapillaryStandIn(options.capillaryStandIn);
  const line = await startLineStandIn(options.lineStandIn);
  const dynamo = new DynamoDBClient({});
  const tableName = await createUsersTable(dynamo);
  const config = workerConfigFor(
    tableName,
    capillary.url,
    line.url,
    options.capillary,
    options.channels,
    [],
    options.link,
    options.engagement?.(capillary),
    options.loyalty,
  );
  const settled: RecordSettled[] = [];
  const waiting = new Map<string, (settlement: RecordSettled) => void>();
  const deps: WorkerDeps = {
    ...buildSyncDeps(config, dynamo),
    onSettled: (settlement) => {
      settled.push(settlement);
      waiting.get(settlement.messageId)?.(settlement);
    },
  };
  // Each run is one invocation, with its own deadline (a long test or bench would otherwise run out of time).
  const context = () => lambdaContext({ name: 'test-worker', memoryMb: 512, timeoutSeconds: 30 });
  return {
    capillary,
    line,
    dynamo,
    config,
    deps,
    settled,
    context,
    whenSettled: (messageId) => new Promise((resolve) => waiting.set(messageId, resolve)),
    store: deps.store,
    run: (events, receiveCount = 1, { channel, destination } = {}) =>
      processSqsBatch(
        toSqsEvent(events.map((e) => sqsRecordFor(e, receiveCount, destination, channel))),
        context(),
        deps,
      ),
    async close() {
      dynamo.destroy();
      await Promise.all([capillary.close(), line.close()]);
    },
  };
}
