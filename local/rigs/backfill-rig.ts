/**
 * The backfill job on real local servers: the LINE and Capillary stand-ins, the users table on dynalite,
 * the events queue + DLQ and the tick queue on fauxqs, and the job's real code (runBackfillTick), for
 * tests, the benchmark and the chaos run. Invocations are driven one by one, so a test can crash or
 * cancel between them.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

import { buildBackfillDeps } from '../../lib/backfill/backfill-deps';
import { runBackfillTick, type BackfillDeps, type TickResult } from '../../lib/backfill/run-backfill';
import type { RateLimiter } from '../../lib/capillary/rate-limiter';
import type { BackfillConfig } from '../../lib/config/backfill-config';
import type { WorkerChannel, WorkerConfig } from '../../lib/config/worker-config';
import { createSqsClient } from '../../lib/queue/sqs-client';
import type { BackfillJob } from '../../lib/store/backfill-job-store';
import type { WorkerDeps } from '../../lib/worker/handle-queued-event';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../lib/worker/worker-deps';
import { lambdaContext } from '../lambda-context';
import { toSqsEvent, toSqsRecord } from '../lambda-events';
import {
  startCapillaryStandIn,
  type CapillaryStandIn,
  type CapillaryStandInOptions,
} from '../standins/capillary-standin';
import { startLineStandIn, type LineStandIn, type LineStandInOptions } from '../standins/line-standin';
import { createFifoQueue } from './aws-kit';
import { createUsersTable, RIG_CHANNEL, workerConfigFor, type RigCapillarySettings } from './worker-rig';

export interface BackfillRigOptions {
  capillaryStandIn?: CapillaryStandInOptions;
  lineStandIn?: LineStandInOptions;
  capillary?: RigCapillarySettings;
  /** the rig's one channel, changed (e.g. a configured destination) */
  channel?: Partial<WorkerChannel>;
  backfill?: Partial<Omit<BackfillConfig, 'worker'>>;
  sharedLimiter?: RateLimiter;
  /** share an existing users table (e.g. a worker harness's) */
  dynamo?: DynamoDBClient;
  tableName?: string;
}

export interface BackfillRig {
  capillary: CapillaryStandIn;
  line: LineStandIn;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  config: BackfillConfig;
  deps: BackfillDeps;
  queues: { eventsQueueUrl: string; deadLetterQueueUrl: string; tickQueueUrl: string };
  /** starts a job for the configured channel; returns its id */
  start(): Promise<string>;
  /** one invocation of the job with this much time before its deadline */
  tick(jobId: string, budgetMs?: number): Promise<TickResult>;
  /** invocations until the job stops asking for another (at most `maxTicks`) */
  runToEnd(jobId: string, maxTicks?: number): Promise<BackfillJob>;
  job(): Promise<BackfillJob | undefined>;
  /** Capillary business calls so far (the OAuth token call excluded) */
  capillaryCalls(): number;
  /** runs the real worker over the events queue until it is empty (repairs, handed-over followers) */
  drainPipeline(): Promise<number>;
  close(): Promise<void>;
}

const DEFAULT_TICK_BUDGET_MS = 120_000;
/** The rig's one channel. */
const CHANNEL = RIG_CHANNEL.id;

/** Receive → the real batch processor → delete what succeeded, until a receive comes back empty. */
async function drainThroughWorker(sqs: SQSClient, queueUrl: string, deps: WorkerDeps): Promise<number> {
  const context = lambdaContext({ name: 'rig-worker', memoryMb: 256, timeoutSeconds: 60 });
  let processed = 0;
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 5,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (messages.length === 0) return processed;
    const records = messages.map((message) =>
      toSqsRecord(message, 'arn:aws:sqs:ap-northeast-1:000000000000:rig-events.fifo'),
    );
    const { batchItemFailures } = await processSqsBatch(toSqsEvent(records), context, deps);
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const done = messages.filter((message) => !failed.has(message.MessageId as string));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    processed += done.length;
  }
}

export function backfillConfigFor(
  worker: WorkerConfig,
  queues: BackfillRig['queues'],
  overrides: Partial<Omit<BackfillConfig, 'worker'>> = {},
): BackfillConfig {
  return {
    worker,
    ...queues,
    batchSize: 10,
    recordMaxAttempts: 3,
    rateSharePercent: 100,
    bulkCountsAs: 'record',
    lineTimeoutMs: 2000,
    pageSize: 1000,
    ...overrides,
  };
}

export async function startBackfillRig(options: BackfillRigOptions = {}): Promise<BackfillRig> {
  const capillary = await startCapillaryStandIn(options.capillaryStandIn);
  const line = await startLineStandIn(options.lineStandIn);
  const dynamo = options.dynamo ?? new DynamoDBClient({});
  const sqs = createSqsClient();
  const tableName = options.tableName ?? (await createUsersTable(dynamo));
  const events = await createFifoQueue(sqs, { maxReceiveCount: 5 });
  const { QueueUrl: tickQueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `backfill-${randomBytes(4).toString('hex')}` }),
  );
  const queues = {
    eventsQueueUrl: events.queueUrl,
    deadLetterQueueUrl: events.dlqUrl,
    tickQueueUrl: tickQueueUrl as string,
  };
  const worker = workerConfigFor(tableName, capillary.url, line.url, options.capillary, [
    { ...RIG_CHANNEL, ...options.channel },
  ]);
  const config = backfillConfigFor(worker, queues, options.backfill);
  const deps: BackfillDeps = await buildBackfillDeps(
    config,
    { dynamo, sqs, ...(options.sharedLimiter ? { sharedLimiter: options.sharedLimiter } : {}) },
    CHANNEL,
  ).catch(async (error: unknown) => {
    await Promise.all([capillary.close(), line.close()]);
    throw error;
  });

  const tick = (jobId: string, budgetMs = DEFAULT_TICK_BUDGET_MS) =>
    runBackfillTick({ channel: CHANNEL, jobId }, deps, Date.now() + budgetMs, randomUUID());
  const job = () => deps.jobs.read(CHANNEL);
  return {
    capillary,
    line,
    dynamo,
    sqs,
    config,
    deps,
    queues,
    start: async () => (await deps.jobs.start(CHANNEL, randomUUID(), Date.now())).jobId,
    tick,
    async runToEnd(jobId, maxTicks = 50) {
      for (let count = 0; count < maxTicks; count++) if (!(await tick(jobId)).next) break;
      return (await job()) as BackfillJob;
    },
    job,
    capillaryCalls: () => capillary.calls().filter((call) => call.path.startsWith('/v2/')).length,
    drainPipeline: () => drainThroughWorker(sqs, queues.eventsQueueUrl, { ...buildSyncDeps(worker, dynamo) }),
    async close() {
      if (options.dynamo === undefined) dynamo.destroy();
      sqs.destroy();
      await Promise.all([capillary.close(), line.close()]);
    },
  };
}
