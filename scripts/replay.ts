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
import { parseArgs } from 'node:util';

import { DEFAULT_WEBHOOK_URL, webhookUrlFor } from '../local/pipeline-admin-api';
import { asNewEvents, formatReplayReport, replay, replayProblems } from '../local/replay';
import { readSampleBodies, replaySecret } from '../local/sample-events';

const USAGE =
  'usage: npm run replay -- <file.json | directory | -> [--fresh] [--url <webhook URL>] [--channel <id>] [--secret <channel secret>] [--tamper] [--wait <seconds>]';

/** Their message says what to do; the underlying cause (an ENOENT, …) would only repeat it. */
const SELF_EXPLAINING_ERRORS = new Set(['SampleBodiesError']);

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
      channel: { type: 'string' },
      secret: { type: 'string' },
      tamper: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      wait: { type: 'string', default: '300' },
    },
  });
  const waitSeconds = Number(values.wait);
  if (positionals.length !== 1 || !(waitSeconds > 0)) throw new Error(USAGE);

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

main().catch((error: unknown) => {
  const { name, message, cause } = error as Error & { cause?: Error };
  if (SELF_EXPLAINING_ERRORS.has(name)) {
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
    return;
  }
  // fetch reports "connection refused" only in its cause.
  process.stderr.write(`${message}${cause ? ` (${cause.message})` : ''}\n`);
  if (cause && 'code' in cause && cause.code === 'ECONNREFUSED')
    process.stderr.write('Is the local pipeline running? Start it with `npm start`.\n');
  process.exitCode = 1;
});
