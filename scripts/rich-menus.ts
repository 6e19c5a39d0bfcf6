/**
 * npm run rich-menus -- --stage <stage> [--channel <id>] [--dry-run] [--region <region>]
 *
 * Links the tier's rich menu of every linked member of one channel (docs/loyalty.md#existing-members): the tier
 * read from Capillary within the stage's shared budget, the menus linked with LINE's bulk link (≤ 500 users a call).
 * --dry-run reads and counts, and calls LINE for nothing. A rerun changes nothing that is already right.
 */
import '../local/quiet-telemetry'; // first: the library's JSON logs and metrics are for CloudWatch; this prints its own lines

import { syncMemberMenus } from '../ops/loyalty/menu-sync';
import { buildMenuSyncDeps } from '../ops/loyalty/menu-sync-deps';
import { STAGE_OPTIONS, stageTarget } from '../ops/stage-target';
import { parseCli, runCli, UsageError } from './cli';
import { assertChannelServed, stageConfig } from './stage-config';

const USAGE = 'usage: npm run rich-menus -- --stage <stage> [--channel <id>] [--dry-run] [--region <region>]';
const PROGRESS_EVERY = 100;

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, { ...STAGE_OPTIONS, 'dry-run': { type: 'boolean', default: false } });
  if (!values.stage) throw new UsageError(USAGE);
  const target = await stageTarget(values.stage, values.region);
  try {
    const config = await stageConfig(target);
    assertChannelServed(config, values.channel);
    const deps = await buildMenuSyncDeps(config, target.dynamo, values.channel as string);
    if (deps === undefined) {
      console.log(`Channel ${values.channel} maps no tier to a rich menu (richMenusByTier): nothing to link.`);
      return;
    }
    const dryRun = values['dry-run'];
    const report = await syncMemberMenus(deps, {
      dryRun,
      onProgress: ({ read, members, linked }) => {
        if (read % PROGRESS_EVERY === 0 || read === members)
          process.stdout.write(`\rTiers read: ${read}/${members}; users linked: ${linked}`);
      },
    });
    process.stdout.write('\n');
    const menus = Object.entries(report.byMenu);
    console.log(
      `${dryRun ? 'Dry run: would link' : 'Linked'} ${menus.reduce((sum, [, users]) => sum + users, 0)} of ${report.members} member(s) on channel ${values.channel} in ${report.lineCalls} LINE call(s); ${report.withoutMenu} keep the default menu.`,
    );
    for (const [richMenuId, users] of menus) console.log(`  ${richMenuId}  ${users} user(s)`);
    for (const { status, requestId, detail } of report.refusals)
      console.log(`LINE refused a bulk link: ${status} ${detail ?? ''} (request ${requestId ?? 'unknown'})`);
  } finally {
    target.close();
  }
}

runCli(main);
