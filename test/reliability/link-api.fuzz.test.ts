/**
 * At least 10,000 malformed or unauthenticated link API requests (FUZZ_LINK_REQUESTS changes the count,
 * FUZZ_SEED / FUZZ_PATH replay a failure): no crash, no link, every answer a 4xx.
 */
import { formatLinkFuzzReport, runLinkApiFuzz } from '../../local/chaos/link-api-fuzz';
import { startLinkApiHarness, type LinkApiHarness } from '../../local/rigs/link-api-rig';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const requests = Number(process.env.FUZZ_LINK_REQUESTS ?? 10_000);

describe(`link API fuzzing (seed ${seed})`, () => {
  let harness: LinkApiHarness;
  beforeAll(async () => {
    harness = await startLinkApiHarness();
  });
  afterAll(() => harness.close());

  it('answers every malformed or unauthenticated request with a 4xx, never throws, queues nothing and stores no nonce', async () => {
    const report = await runLinkApiFuzz(harness, { seed, requests, path: process.env.FUZZ_PATH });
    process.stdout.write(`${formatLinkFuzzReport(report)}\n`);
    expect(report.failure).toBeUndefined();
    expect(report.figures).toMatchObject({ requests, crashes: 0, queued: 0, noncesStored: 0 });
    expect(Object.keys(report.figures.byStatus).sort()).toEqual(['400', '401', '404', '413']);
  }, 300_000);
});
