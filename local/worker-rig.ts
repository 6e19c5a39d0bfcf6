import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { WorkerConfig } from '../lib/config/config';
import { DEFAULTS } from '../lib/config/defaults';
import { LOCAL_CREDENTIALS } from './local-credentials';
import type { LineWebhookEvent } from '../lib/line/callback';
import { type CapillaryStandIn, type CapillaryStandInOptions, startCapillaryStandIn } from './standins/capillary-standin';
import { lambdaContext } from './lambda-context';
import { toSqsEvent, toSqsRecord } from './lambda-events';
import { type LineStandIn, type LineStandInOptions, startLineStandIn } from './standins/line-standin';
import { loadLocalResources } from '../ops/serverless-resources';
import { messageGroupId, serializeQueuedEvent } from '../lib/queue/queued-event';
import { UserSyncStore } from '../lib/store/user-sync-store';
import { type RecordSettled, type WorkerDeps, processSqsBatch } from '../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../lib/worker/worker-deps';
import { DESTINATION } from './line-event-factory';

export const LINE_ACCOUNT_ID = '2001914141242';

/** The users table exactly as serverless.yml declares it, under a unique name on the local dynalite. */
export async function createUsersTable(dynamo: DynamoDBClient): Promise<string> {
  const [definition] = loadLocalResources('local').tables;
  const tableName = `users-${randomBytes(4).toString('hex')}`;
  await dynamo.send(new CreateTableCommand({ ...definition!, TableName: tableName }));
  return tableName;
}

export function workerConfigFor(tableName: string, capillaryUrl: string, lineUrl: string, capillary: Partial<WorkerConfig['capillary']> = {}): WorkerConfig {
  return {
    tableName,
    claimTtlSeconds: 60,
    line: { channelAccessToken: LOCAL_CREDENTIALS.lineChannelAccessToken, apiBaseUrl: lineUrl, profileTimeoutMs: 1000 },
    capillary: {
      baseUrl: capillaryUrl,
      lineAccountId: LINE_ACCOUNT_ID,
      auth: { scheme: 'oauth', id: LOCAL_CREDENTIALS.capillaryClientKey, secret: LOCAL_CREDENTIALS.capillaryClientSecret, oauthHeaderName: DEFAULTS.CAPILLARY_OAUTH_HEADER },
      subscriptionChannel: 'LINE',
      orgUnitId: -1,
      registrationMode: 'instore+line',
      externalIdPrefix: 'line_',
      subscribeOnRegister: false,
      timeoutMs: 1000,
      maxAttempts: 3,
      rateLimitPerMinute: 1_000_000,
      workerConcurrency: 1,
      ...capillary,
    },
  };
}

export interface WorkerHarness {
  capillary: CapillaryStandIn;
  line: LineStandIn;
  dynamo: DynamoDBClient;
  store: UserSyncStore;
  config: WorkerConfig;
  deps: WorkerDeps;
  /** every record settlement the worker reported, in order */
  settled: RecordSettled[];
  /** resolves when the worker reports the record with this message id settled */
  whenSettled(messageId: string): Promise<RecordSettled>;
  /** runs events through the real batch processor as one SQS batch, in the given order */
  run(events: LineWebhookEvent[], receiveCount?: number): Promise<SQSBatchResponse>;
  close(): Promise<void>;
}

let messageSequence = 0;
export function sqsRecordFor(event: LineWebhookEvent, receiveCount = 1, destination = DESTINATION): SQSRecord {
  return toSqsRecord({
    MessageId: `m-${++messageSequence}`,
    Body: serializeQueuedEvent({ destination, event }),
    Attributes: { MessageGroupId: messageGroupId(destination, event), MessageDeduplicationId: event.webhookEventId, ApproximateReceiveCount: String(receiveCount) },
  }, 'arn:aws:sqs:ap-northeast-1:000000000000:test.fifo');
}

export async function startWorkerHarness(options: {
  capillary?: Partial<WorkerConfig['capillary']>;
  capillaryStandIn?: CapillaryStandInOptions;
  lineStandIn?: LineStandInOptions;
} = {}): Promise<WorkerHarness> {
  const capillary = await startCapillaryStandIn(options.capillaryStandIn);
  const line = await startLineStandIn(options.lineStandIn);
  const dynamo = new DynamoDBClient({});
  const tableName = await createUsersTable(dynamo);
  const config = workerConfigFor(tableName, capillary.url, line.url, options.capillary);
  const settled: RecordSettled[] = [];
  const waiting = new Map<string, (settlement: RecordSettled) => void>();
  const deps: WorkerDeps = {
    ...buildSyncDeps(config, dynamo),
    onSettled: (settlement) => {
      settled.push(settlement);
      waiting.get(settlement.messageId)?.(settlement);
    },
  };
  const context = lambdaContext({ name: 'test-worker', memoryMb: 512, timeoutSeconds: 30 });
  return {
    capillary, line, dynamo, config, deps, settled,
    whenSettled: (messageId) => new Promise((resolve) => waiting.set(messageId, resolve)),
    store: deps.store,
    run: (events, receiveCount = 1) => processSqsBatch(toSqsEvent(events.map((e) => sqsRecordFor(e, receiveCount))), context, deps),
    async close() {
      dynamo.destroy();
      await Promise.all([capillary.close(), line.close()]);
    },
  };
}
