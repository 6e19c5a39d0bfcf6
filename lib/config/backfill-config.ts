/**
 * The backfill job's configuration: the worker's (table, LINE token, Capillary) plus the queues and the
 * job's own settings, read and checked once per cold start like every other function's.
 */
import type { BulkCountsAs } from '../domain/backfill-rules';
import { readChannels, type ById, type ChannelOf } from './channels';
import { readWorkerConfig, type WorkerConfig } from './config';
import { DEFAULTS } from './defaults';
import { EnvReader, type Env, type SecretResolver } from './env-reader';

export interface BackfillConfig {
  worker: WorkerConfig;
  eventsQueueUrl: string;
  deadLetterQueueUrl: string;
  /** the job's own queue: one message per invocation to come */
  tickQueueUrl: string;
  batchSize: number;
  recordMaxAttempts: number;
  /** the share of CAPILLARY_RATE_LIMIT_RPM the job may use; the rest stays for live events */
  rateSharePercent: number;
  bulkCountsAs: BulkCountsAs;
  lineTimeoutMs: number;
  /** follower ids per LINE page: smaller pages finish within one invocation when the budget is small */
  pageSize: number;
}

export async function readBackfillConfig(env: Env, resolveSecret: SecretResolver): Promise<BackfillConfig> {
  const worker = await readWorkerConfig(env, resolveSecret);
  const read = new EnvReader(env, resolveSecret);
  const config: BackfillConfig = {
    worker,
    eventsQueueUrl: read.url('QUEUE_URL'),
    deadLetterQueueUrl: read.url('DEAD_LETTER_QUEUE_URL'),
    tickQueueUrl: read.url('BACKFILL_QUEUE_URL'),
    // No maximum per call is documented (docs/capillary.md#bulk-upsert); Capillary's own tool sends 10.
    batchSize: read.integer('BACKFILL_BATCH_SIZE', DEFAULTS.BACKFILL_BATCH_SIZE, 1, 100),
    recordMaxAttempts: read.integer('BACKFILL_RECORD_MAX_ATTEMPTS', DEFAULTS.BACKFILL_RECORD_MAX_ATTEMPTS, 1, 10),
    rateSharePercent: read.integer('BACKFILL_RATE_SHARE_PERCENT', DEFAULTS.BACKFILL_RATE_SHARE_PERCENT, 1, 100),
    // Unconfirmed whether a bulk call counts once or per record: per record (the safe reading) unless set.
    bulkCountsAs: read.oneOf(
      'CAPILLARY_BULK_COUNTS_AS',
      ['request', 'record'] as const,
      DEFAULTS.CAPILLARY_BULK_COUNTS_AS,
    ),
    lineTimeoutMs: read.integer('LINE_API_TIMEOUT_MS', DEFAULTS.LINE_API_TIMEOUT_MS, 100, 60_000),
    pageSize: read.integer('BACKFILL_PAGE_SIZE', DEFAULTS.BACKFILL_PAGE_SIZE, 1, 1000),
  };
  read.done();
  return config;
}

export interface InsightCheckConfig {
  tableName: string;
  /** every channel: the check runs for each (their bot user ids come from LINE when not configured) */
  channels: ById<ChannelOf<'channelAccessToken'>>;
  line: { apiBaseUrl: string; timeoutMs: number };
}

export async function readInsightCheckConfig(env: Env, resolveSecret: SecretResolver): Promise<InsightCheckConfig> {
  const read = new EnvReader(env, resolveSecret);
  const config: InsightCheckConfig = {
    tableName: read.required('TABLE_NAME'),
    channels: await readChannels(read, ['channelAccessToken']),
    line: {
      apiBaseUrl: read.url('LINE_API_BASE_URL', DEFAULTS.LINE_API_BASE_URL),
      timeoutMs: read.integer('LINE_API_TIMEOUT_MS', DEFAULTS.LINE_API_TIMEOUT_MS, 100, 60_000),
    },
  };
  read.done();
  return config;
}
