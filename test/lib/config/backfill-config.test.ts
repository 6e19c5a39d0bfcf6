import { readBackfillConfig } from '../../../lib/config/backfill-config';
import { readWorkerConfig } from '../../../lib/config/worker-config';
import { noSsm, problemsOf, workerEnv } from './config-fixtures';

const backfillEnv = (overrides: Record<string, string | undefined> = {}) =>
  workerEnv({
    QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/events.fifo',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/events-dlq.fifo',
    BACKFILL_QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/backfill.fifo/',
    ...overrides,
  });

describe('readBackfillConfig', () => {
  it("reads the worker's configuration, the queues and the documented defaults of the job", async () => {
    const config = await readBackfillConfig(backfillEnv(), noSsm);
    const { engagement, ...workerSections } = await readWorkerConfig(backfillEnv(), noSsm);
    expect(engagement.posting).toBeUndefined();
    expect(config.worker).toEqual(workerSections);
    expect(config).toMatchObject({
      eventsQueueUrl: 'https://sqs.ap-northeast-1.amazonaws.com/1/events.fifo',
      deadLetterQueueUrl: 'https://sqs.ap-northeast-1.amazonaws.com/1/events-dlq.fifo',
      tickQueueUrl: 'https://sqs.ap-northeast-1.amazonaws.com/1/backfill.fifo',
      batchSize: 10,
      recordMaxAttempts: 3,
      rateSharePercent: 50,
      bulkCountsAs: 'record',
      lineTimeoutMs: 10_000,
      pageSize: 1000,
    });
  });

  it("reads no engagement settings: mapped events are the worker's, so their ingest URL is not needed", async () => {
    const env = backfillEnv({ LINE_ENGAGEMENT_EVENTS: '[{"type": "postback", "data": "a", "event": "line_tap"}]' });
    await expect(readWorkerConfig(env, noSsm)).rejects.toThrow(/CAPILLARY_BEHAVIOURAL_EVENTS_URL/);
    await expect(readBackfillConfig(env, noSsm)).resolves.not.toHaveProperty('worker.engagement');
  });

  it('reads the settings of the job', async () => {
    const config = await readBackfillConfig(
      backfillEnv({
        BACKFILL_BATCH_SIZE: '100',
        BACKFILL_RECORD_MAX_ATTEMPTS: '1',
        BACKFILL_RATE_SHARE_PERCENT: '20',
        CAPILLARY_BULK_COUNTS_AS: 'request',
        LINE_API_TIMEOUT_MS: '20000',
        BACKFILL_PAGE_SIZE: '50',
      }),
      noSsm,
    );
    expect(config).toMatchObject({
      batchSize: 100,
      recordMaxAttempts: 1,
      rateSharePercent: 20,
      bulkCountsAs: 'request',
      lineTimeoutMs: 20_000,
      pageSize: 50,
    });
  });

  it("lists a wrong worker setting and a wrong job setting together, the worker's first", async () => {
    const env = backfillEnv({
      TABLE_NAME: undefined,
      CAPILLARY_REGISTRATION_MODE: 'later',
      BACKFILL_QUEUE_URL: undefined,
      BACKFILL_BATCH_SIZE: '0',
      CAPILLARY_BULK_COUNTS_AS: 'call',
    });
    expect(await problemsOf(readBackfillConfig(env, noSsm))).toEqual([
      'TABLE_NAME is not set',
      'CAPILLARY_REGISTRATION_MODE must be one of instore+line, line-only, on-link, got "later"',
      'CAPILLARY_BULK_COUNTS_AS must be one of request, record, got "call"',
      'BACKFILL_QUEUE_URL is not set',
      'BACKFILL_BATCH_SIZE must be an integer from 1 to 100, got "0"',
    ]);
  });

  it('names a wrong LINE_API_TIMEOUT_MS once, with the limit the worker allows', async () => {
    expect(await problemsOf(readBackfillConfig(backfillEnv({ LINE_API_TIMEOUT_MS: '45000' }), noSsm))).toEqual([
      'LINE_API_TIMEOUT_MS must be an integer from 100 to 30000, got "45000"',
    ]);
  });
});
