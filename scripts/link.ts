/**
 * npm run link -- --user <U…> --mobile <digits> [--failed] [--url <webhook URL>] [--secret <channel secret>] [--wait <seconds>]
 *
 * Links a LINE user to the brand member with that mobile number through the running local pipeline
 * (`npm start`), the way a person would: follow, tap "link" in chat, log in on the brand page, and LINE
 * sends the accountLink event. `--failed` makes the LINE stand-in send a `failed` result instead.
 * Prints the chat events' outcomes and the member customer before and after.
 */
import { formatLinkReport, runLinkFlow } from '../local/link-flow';
import { DEFAULT_WEBHOOK_URL } from '../local/pipeline-admin-api';
import { LOCAL_CHANNEL_SECRET } from '../local/sample-events';
import { parseCli, runCli, UsageError } from './cli';

const USAGE =
  'usage: npm run link -- --user <U + 32 hex> --mobile <digits with country code> [--failed] [--url <webhook URL>] [--wait <seconds>]';

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, {
    user: { type: 'string' },
    mobile: { type: 'string' },
    failed: { type: 'boolean', default: false },
    url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
    secret: { type: 'string', default: process.env.LINE_CHANNEL_SECRET || LOCAL_CHANNEL_SECRET },
    wait: { type: 'string', default: '60' },
  });
  const waitSeconds = Number(values.wait);
  if (!/^U[0-9a-f]{32}$/.test(values.user ?? '') || !/^[0-9]{8,15}$/.test(values.mobile ?? '') || !(waitSeconds > 0))
    throw new UsageError(USAGE);
  const report = await runLinkFlow({
    webhookUrl: values.url,
    secret: values.secret,
    userId: values.user as string,
    mobile: values.mobile as string,
    failed: values.failed,
    waitSeconds,
    progress: (line) => process.stderr.write(`… ${line}\n`),
  });
  process.stdout.write(formatLinkReport(report, values.user as string));
}

runCli(main);
