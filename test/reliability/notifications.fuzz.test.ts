/**
 * At least 10,000 malformed or unauthenticated requests to POST /capillary/notifications in `npm run fuzz`; here
 * FUZZ_NOTIFICATION_REQUESTS (default 2,000) of them (FUZZ_SEED / FUZZ_PATH replay a failure): no crash, nothing
 * queued or remembered, every answer a 4xx.
 */
import { formatNotificationsFuzzReport, runNotificationsFuzz } from '../../local/chaos/notifications-fuzz';
import { startNotificationsHarness, type NotificationsHarness } from '../../local/rigs/notifications-rig';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const requests = Number(process.env.FUZZ_NOTIFICATION_REQUESTS ?? 2_000);

describe(`Capillary notifications fuzzing (seed ${seed})`, () => {
  let harness: NotificationsHarness;
  beforeAll(async () => {
    harness = await startNotificationsHarness();
  });
  afterAll(() => harness.close());

  it('answers every malformed or unauthenticated notification with a 4xx, never throws, queues and remembers nothing', async () => {
    const report = await runNotificationsFuzz(harness, { seed, requests, path: process.env.FUZZ_PATH });
    process.stdout.write(`${formatNotificationsFuzzReport(report)}\n`);
    expect(report.failure).toBeUndefined();
    expect(report.figures).toMatchObject({ requests, crashes: 0, queued: 0, notificationsRemembered: 0 });
    expect(Object.keys(report.figures.byStatus).sort()).toEqual(['400', '401', '404', '413']);
  }, 300_000);
});
