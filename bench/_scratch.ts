import { measureWebhook, webhookTables } from './webhook-cpu';
import { packageDeployment } from './deployment';
import { PROFILES } from './profiles';
(async () => {
  const d = packageDeployment();
  const f = await measureWebhook({ ...PROFILES.full.webhook, samples: 11, warmupMs: 500 }, d.webhook);
  console.log(webhookTables(f).join('\n'));
  d.dispose();
})();
