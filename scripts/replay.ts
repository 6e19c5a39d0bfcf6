/**
 * npm run replay -- <file.json | directory | -> [--fresh] [--url <webhook URL>] [--channel <id>] [--secret <channel secret>] [--tamper] [--wait <seconds>]
 * (--channel posts to <url>/<id>, the channel's own webhook URL; --secret defaults to that local channel's
 * secret, else LINE_CHANNEL_SECRET, else the local channel secret; --fresh: see asNewEvents)
 *
 * Signs each LINE callback body over its exact bytes and POSTs it (default: the local pipeline of
 * `npm start`), then prints what the webhook answered and, locally, what the worker did with every
 * event and the resulting Capillary and DynamoDB state of each user. Exit status 1 when an answer was
 * not the expected one (2xx, or 401 with --tamper) or the worker did not finish in time.
 */
import { DEFAULT_WEBHOOK_URL, webhookUrlFor } from '../local/pipeline-admin-api';
import { asNewEvents, formatReplayReport, replay, replayProblems } from '../local/replay';
import { readSampleBodies, replaySecret } from '../local/sample-events';
import { parseCli, runCli, UsageError } from './cli';

const USAGE =
  'usage: npm run replay -- <file.json | directory | -> [--fresh] [--url <webhook URL>] [--channel <id>] [--secret <channel secret>] [--tamper] [--wait <seconds>]';

async function main(): Promise<void> {
  const { values, positionals } = parseCli(
    USAGE,
    {
      url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
      channel: { type: 'string' },
      secret: { type: 'string' },
      tamper: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      wait: { type: 'string', default: '300' },
    },
    { allowPositionals: true },
  );
  const waitSeconds = Number(values.wait);
  if (positionals.length !== 1 || !(waitSeconds > 0)) throw new UsageError(USAGE);

  const bodies = readSampleBodies(positionals[0] as string);
  const report = await replay({
    bodies: values.fresh ? asNewEvents(bodies, Date.now()) : bodies,
    url: webhookUrlFor(values.url, values.channel),
    secret: values.secret ?? replaySecret(values.channel),
    tamper: values.tamper,
    waitSeconds,
    progress: (line) => process.stderr.write(`… ${line}\n`),
  });
  process.stdout.write(formatReplayReport(report));
  const problems = replayProblems(report);
  if (problems.length > 0) {
    process.stderr.write(`\nReplay problems: ${problems.join('; ')}\n`);
    process.exitCode = 1;
  }
}

runCli(main);
