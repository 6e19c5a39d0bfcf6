/**
 * npm run reconcile -- --stage <stage> [--channel <id>] [--repair] [--sample N] [--verbose] [--json] [--region <region>]
 *
 * Compares LINE's follower list, the user table and Capillary's subscription state, prints one line per
 * drift class, and with --repair queues the fixing events into the ordered pipeline (docs/operations.md#drift-check).
 * Capillary reads take the stage's rate budget; --sample N checks N random customers only.
 */
import { randomUUID } from 'node:crypto';

import '../local/quiet-telemetry'; // first: the library's JSON logs and metrics are for CloudWatch; this prints its own lines

import { RECONCILE_DRIFT_CLASSES } from '../ops/reconcile/identity-drift';
import { reconcile } from '../ops/reconcile/reconcile';
import { buildReconcileDeps } from '../ops/reconcile/reconcile-deps';
import { STAGE_OPTIONS, stageTarget } from '../ops/stage-target';
import { parseCli, runCli, UsageError } from './cli';
import { assertChannelServed, stageConfig } from './stage-config';

const USAGE =
  'usage: npm run reconcile -- --stage <stage> [--channel <id>] [--repair] [--sample N] [--verbose] [--json] [--region <region>]';

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, {
    ...STAGE_OPTIONS,
    repair: { type: 'boolean', default: false },
    sample: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const sample = values.sample === undefined ? undefined : Number(values.sample);
  if (!values.stage || (sample !== undefined && !(Number.isInteger(sample) && sample >= 0)))
    throw new UsageError(USAGE);
  const target = await stageTarget(values.stage, values.region);
  try {
    const config = await stageConfig(target);
    assertChannelServed(config, values.channel);
    const deps = await buildReconcileDeps(config, target, target.eventsQueueUrl, values.channel as string);
    const runId = randomUUID();
    const report = await reconcile(deps, { runId, repair: values.repair, ...(sample === undefined ? {} : { sample }) });
    if (values.json) {
      const { users, forgottenUsers, ...counted } = report;
      const named = values.verbose ? { users, forgottenUsers } : {};
      console.log(JSON.stringify({ runId, ...counted, ...named }, null, 2));
      return;
    }
    console.log(
      `Drift check ${runId} on stage ${values.stage}: ${report.followers} LINE followers, ${report.tableRecords} table records, ${report.capillaryChecked} Capillary customers checked.`,
    );
    for (const drift of RECONCILE_DRIFT_CLASSES) {
      console.log(`${drift.padEnd(18)} ${report.counts[drift]}`);
      if (values.verbose && report.users[drift].length > 0) console.log(`  ${report.users[drift].join(' ')}`);
    }
    // Not drift: Capillary deleted them on a PII request, and they stay on no customer until they follow again.
    console.log(`${'forgotten'.padEnd(18)} ${report.forgotten} (deleted on a PII request: not drift, never repaired)`);
    if (values.verbose && report.forgottenUsers.length > 0) console.log(`  ${report.forgottenUsers.join(' ')}`);
    const total = RECONCILE_DRIFT_CLASSES.reduce((sum, drift) => sum + report.counts[drift], 0);
    if (values.repair)
      console.log(
        `Queued ${report.repaired} repair event(s) into the ordered pipeline; run the check again once the queue drains.`,
      );
    else if (total > 0) console.log('Run again with --repair to fix these through the ordered pipeline.');
  } finally {
    target.close();
  }
}

runCli(main);
