/**
 * npm run capillary-notifications -- --stage <stage> (--subscribe | --print) [--url <notifications URL>] [--org <id>]
 *   [--region <region>]
 *
 * Capillary's event notifications → the stage's POST /capillary/notifications (docs/deploy.md#capillary-event-notifications).
 * --subscribe registers the webhook account with POST /v3/webHooks using the stage's Capillary credentials; --print
 * shows the settings to enter in InTouch by hand. --url is the stack output CapillaryNotificationsUrl (with /<org> for
 * an org of CAPILLARY_ORGS); `--stage local` defaults to the running `npm start`.
 */
import '../local/quiet-telemetry'; // first: the library's JSON logs are for CloudWatch; this prints its own lines

import { CapillaryHttpClient } from '../lib/capillary/http-client';
import { DEFAULT_CAPILLARY_ORG_ID } from '../lib/config/channels';
import { list } from '../lib/config/env-reader';
import { ssmSecret } from '../lib/config/once-per-container';
import { readWorkerConfig } from '../lib/config/worker-config';
import { orgRateLimiter } from '../lib/store/shared-rate-limiter';
import { LOCAL_CREDENTIALS } from '../local/local-credentials';
import { inTouchSettings, subscribe, webhookAccount } from '../ops/capillary-notifications';
import { functionEnvironment } from '../ops/serverless-resources';
import { stageTarget, workerEnvironment } from '../ops/stage-target';
import { parseCli, runCli, UsageError } from './cli';

const USAGE =
  'usage: npm run capillary-notifications -- --stage <stage> (--subscribe | --print) [--url <notifications URL>] [--org <id>] [--region <region>]';
const LOCAL_URL = 'http://127.0.0.1:3000/capillary/notifications';

/** The stage's token, as the function reads it: the SSM parameter serverless.yml names, or the local value. */
async function notificationsToken(stage: string): Promise<string> {
  if (process.env.CAPILLARY_NOTIFICATIONS_TOKEN) return list(process.env.CAPILLARY_NOTIFICATIONS_TOKEN)[0] as string;
  if (stage === 'local') return LOCAL_CREDENTIALS.capillaryNotificationsToken;
  const parameter = functionEnvironment(stage, 'capillaryNotifications').CAPILLARY_NOTIFICATIONS_TOKEN_PARAM;
  // During a rotation the parameter holds old,new: Capillary gets the newest.
  return list(await ssmSecret(String(parameter))).at(-1) as string;
}

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, {
    stage: { type: 'string' },
    region: { type: 'string' },
    org: { type: 'string', default: DEFAULT_CAPILLARY_ORG_ID },
    url: { type: 'string' },
    subscribe: { type: 'boolean', default: false },
    print: { type: 'boolean', default: false },
  });
  if (!values.stage || values.subscribe === values.print) throw new UsageError(USAGE);
  const url = values.url ?? (values.stage === 'local' ? LOCAL_URL : undefined);
  if (url === undefined) throw new Error(`--url is needed: the stack output CapillaryNotificationsUrl\n${USAGE}`);
  const org = values.org as string;
  const account = webhookAccount(`${values.stage}-${org}`, url, await notificationsToken(values.stage));
  if (values.print) {
    console.log(`InTouch → Organization Settings → Event Notifications → New Webhook (org ${org}):`);
    for (const line of inTouchSettings(account)) console.log(`  ${line}`);
    return;
  }
  const target = await stageTarget(values.stage, values.region);
  try {
    const config = await readWorkerConfig(workerEnvironment(target, process.env), ssmSecret);
    const orgConfig = config.capillaryOrgs.get(org);
    if (orgConfig === undefined) throw new Error(`org "${org}" is not "default" nor an id in CAPILLARY_ORGS`);
    const http = new CapillaryHttpClient({
      baseUrl: orgConfig.baseUrl,
      auth: orgConfig.auth,
      timeoutMs: config.capillary.timeoutMs,
      maxAttempts: config.capillary.maxAttempts,
      limiter: orgRateLimiter(target.dynamo, target.tableName, orgConfig),
    });
    const id = await subscribe(http, account);
    console.log(`Capillary webhook account ${id} (${account.name}) posts ${account.eventNames.join(', ')} to ${url}.`);
  } finally {
    target.close();
  }
}

runCli(main);
