/**
 * npm run state [-- --url <webhook URL>]
 *
 * Every user record of the running local pipeline (`npm start`): channel, user (masked as in the logs), customer,
 * subscription, link status, and the Capillary customers that hold the user in the stand-in.
 */
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient } from '../local/pipeline-admin-api';
import { formatUserStates, readUserStates } from '../local/user-states';
import { NO_PIPELINE_HINT, parseCli, runCli, UsageError } from './cli';

const USAGE = 'usage: npm run state [-- --url <webhook URL>]   (the local pipeline only)';

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, { url: { type: 'string', default: DEFAULT_WEBHOOK_URL } });
  const status = await new PipelineAdminClient(values.url).probe();
  if (status === undefined) throw new UsageError(`No local pipeline answers at ${values.url}.\n${NO_PIPELINE_HINT}`);
  process.stdout.write(formatUserStates(await readUserStates(status), status));
}

runCli(main);
