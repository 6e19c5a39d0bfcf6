/**
 * The backfill job's configuration: the worker's (table, LINE token, Capillary) plus the queues and the
 * job's own settings, read through one reader so a bad worker setting and a bad job setting are listed together.
 */
import type { BulkCountsAs } from '../domain/backfill-rules';
import { DEFAULTS } from './defaults';
import { readConfig, type Env, type SecretResolver } from './env-reader';
import { readEventsQueueUrl } from './resources';
import { readWorkerSections, type WorkerSections } from './worker-config';

export interface BackfillConfig {
  worker: WorkerSections;
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
  return readConfig(env, resolveSecret, async (read) => {
    const worker = await readWorkerSections(read);
    return {
      worker,
      eventsQueueUrl: readEventsQueueUrl(read),
      deadLetterQueueUrl: read.url('DEAD_LETTER_QUEUE_URL'),
      tickQueueUrl: read.url('BACKFILL_QUEUE_URL'),
      // No maximum per call is documented (docs/capillary.md#bulk-upsert); Capillary's own tool sends 10.
      batchSize: read.integer('BACKFILL_BATCH_SIZE', DEFAULTS.BACKFILL_BATCH_SIZE, 1, 100),
      recordMaxAttempts: read.integer('BACKFILL_RECORD_MAX_ATTEMPTS', DEFAULTS.BACKFILL_RECORD_MAX_ATTEMPTS, 1, 10),
      rateSharePercent: read.integer('BACKFILL_RATE_SHARE_PERCENT', DEFAULTS.BACKFILL_RATE_SHARE_PERCENT, 1, 100),
      // Read with the worker's sections: the live worker's new followers go in bulk too.
      bulkCountsAs: worker.capillary.bulkCountsAs,
      // LINE_API_TIMEOUT_MS as the worker's sections read it: one reading, one problem when it is wrong.
      lineTimeoutMs: worker.link.lineApiTimeoutMs,
      pageSize: read.integer('BACKFILL_PAGE_SIZE', DEFAULTS.BACKFILL_PAGE_SIZE, 1, 1000),
    };
  });
}
