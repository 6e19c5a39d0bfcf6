/** Child-process entry of figures 1–2 (see measureWebhook): profile in argv, figures back over IPC. */
import type { BenchProfile } from './profiles';
import { runWebhookMeasurements } from './webhook-cpu';

void runWebhookMeasurements(JSON.parse(process.argv[2] ?? '') as BenchProfile['webhook']).then((figures) => {
  process.send?.(figures, () => process.exit(0));
});
