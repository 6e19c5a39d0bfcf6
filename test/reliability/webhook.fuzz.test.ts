/**
 * Fuzzes the webhook with a few thousand generated requests (`npm run fuzz` sends 100,000): random
 * bytes, truncated and deeply nested JSON, huge bodies, forged, missing and repeated signatures, lying
 * base64 flags, well-signed bodies of the wrong shape, unicode and escapes, another channel's signature and
 * unknown channels in the path. FUZZ_SEED / FUZZ_PATH replay
 * a failure, FUZZ_REQUESTS changes the count.
 */
import { createSqsClient } from '../../lib/queue/sqs-client';
import { formatFuzzReport, HEAP_GROWTH_LIMIT_BYTES, runFuzz } from '../../local/chaos/fuzz-run';
import { createFifoQueue } from '../../local/rigs/aws-kit';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const requests = Number(process.env.FUZZ_REQUESTS ?? 4000);

describe(`webhook fuzzing (seed ${seed})`, () => {
  it('never throws, never answers 5xx while SQS is up, never enqueues a forged request, explains every rejection and keeps its memory', async () => {
    // Prepare
    const sqs = createSqsClient();
    const { queueUrl } = await createFifoQueue(sqs);
    sqs.destroy();
    // Act
    const report = await runFuzz({
      seed,
      path: process.env.FUZZ_PATH,
      requests,
      queueUrl,
      channelSecret: 'fuzz-channel-secret-0123456789ab',
    });
    // Assess
    process.stdout.write(`${formatFuzzReport(report)}\n`);
    expect(report.failure).toBeUndefined();
    const { figures } = report;
    expect(figures).toMatchObject({ requests, enqueuedForForged: 0, unhandledExceptions: 0 });
    expect(Object.keys(figures.byStatus).sort()).toEqual(expect.arrayContaining(['200', '400', '401', '404', '413']));
    expect(figures.heapAfterBytes - figures.heapBeforeBytes).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
  }, 300_000);
});
