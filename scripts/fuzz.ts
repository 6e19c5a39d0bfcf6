/**
 * npm run fuzz [-- --requests 100000] [--link-requests 20000] [--notification-requests 10000] [--seed N] [--path P]
 *
 * Fuzzes the real webhook handler with generated requests against a local FIFO queue, then the link
 * API handler and the Capillary notifications handler with malformed and unauthenticated requests, and
 * prints what each answered, by generator.
 * Exits 1 on the first violation, after fast-check has shrunk it to the smallest failing request (replay
 * with the printed --seed and --path).
 */
import '../local/quiet-telemetry'; // first: a log line and metrics per request would bury the table

import { randomBytes } from 'node:crypto';

import { createSqsClient } from '../lib/queue/sqs-client';
import { startAwsServers } from '../local/aws-servers';
import { formatFuzzReport, HEAP_GROWTH_LIMIT_BYTES, runFuzz } from '../local/chaos/fuzz-run';
import { formatLinkFuzzReport, runLinkApiFuzz } from '../local/chaos/link-api-fuzz';
import { formatNotificationsFuzzReport, runNotificationsFuzz } from '../local/chaos/notifications-fuzz';
import { quietOldNodeWarning } from '../local/node-support';
import { createFifoQueue } from '../local/rigs/aws-kit';
import { startLinkApiHarness } from '../local/rigs/link-api-rig';
import { startNotificationsHarness } from '../local/rigs/notifications-rig';
import { parseCli } from './cli';

const USAGE =
  'usage: npm run fuzz [-- --requests 100000] [--link-requests 20000] [--notification-requests 10000] [--seed N] [--path P]';

quietOldNodeWarning();
const { values } = parseCli(USAGE, {
  requests: { type: 'string', default: '100000' },
  'link-requests': { type: 'string', default: '20000' },
  'notification-requests': { type: 'string', default: '10000' },
  seed: { type: 'string' },
  path: { type: 'string' },
});

async function main(): Promise<number> {
  const aws = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, aws.env);
  try {
    const sqs = createSqsClient();
    const { queueUrl } = await createFifoQueue(sqs);
    sqs.destroy();
    const seed = Number(values.seed ?? Date.now() % 2 ** 31);
    process.stdout.write(
      `Fuzzing the webhook with ${Number(values.requests).toLocaleString('en-US')} requests, seed ${seed}…\n`,
    );
    const report = await runFuzz({
      seed,
      path: values.path,
      requests: Number(values.requests),
      queueUrl,
      channelSecret: randomBytes(16).toString('hex'),
    });
    process.stdout.write(`${formatFuzzReport(report)}\n`);
    const heapGrowth = report.figures.heapAfterBytes - report.figures.heapBeforeBytes;
    const linkApi = await startLinkApiHarness();
    const linkReport = await runLinkApiFuzz(linkApi, {
      seed,
      requests: Number(values['link-requests']),
      path: values.path,
    }).finally(() => linkApi.close());
    process.stdout.write(`${formatLinkFuzzReport(linkReport)}\n`);
    const notifications = await startNotificationsHarness();
    const notificationReport = await runNotificationsFuzz(notifications, {
      seed,
      requests: Number(values['notification-requests']),
      path: values.path,
    }).finally(() => notifications.close());
    process.stdout.write(`${formatNotificationsFuzzReport(notificationReport)}\n`);
    const { crashes, queued, noncesStored } = linkReport.figures;
    const notified = notificationReport.figures;
    const problems = [
      ...(report.failure ? [report.failure] : []),
      ...(heapGrowth >= HEAP_GROWTH_LIMIT_BYTES ? [`heap grew by ${heapGrowth} bytes`] : []),
      ...(linkReport.failure ? [`link API: ${linkReport.failure}`] : []),
      ...(crashes + queued + noncesStored > 0
        ? [`link API: ${crashes} crash(es), ${queued} event(s) queued, ${noncesStored} nonce(s) stored`]
        : []),
      ...(notificationReport.failure ? [`Capillary notifications: ${notificationReport.failure}`] : []),
      ...(notified.crashes + notified.queued + notified.notificationsRemembered > 0
        ? [
            `Capillary notifications: ${notified.crashes} crash(es), ${notified.queued} event(s) queued, ` +
              `${notified.notificationsRemembered} notification(s) remembered`,
          ]
        : []),
    ];
    process.stdout.write(
      problems.length === 0 ? 'Every request was answered as it should be.\n' : `FAILED:\n${problems.join('\n')}\n`,
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    await aws.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
