/**
 * npm run backfill -- --stage <stage> [--channel <id>] [--region <region>]   start (or resume) and follow the job
 * npm run backfill -- --stage <stage> --status | --cancel [--channel <id>]
 *
 * The job runs in the stack (the backfill function); this starts it and shows its progress until it ends.
 * `--stage local` drives the running `npm start`.
 */
import '../local/quiet-telemetry'; // first: the library's JSON logs and metrics are for CloudWatch; this prints its own lines

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { BackfillControl, describeProgress, describeSummary } from '../ops/backfill-control';
import { STAGE_OPTIONS, stageTarget } from '../ops/stage-target';

const USAGE =
  'usage: npm run backfill -- --stage <stage> [--channel <id>] [--region <region>] [--status | --cancel] [--interval <seconds>]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...STAGE_OPTIONS,
      status: { type: 'boolean', default: false },
      cancel: { type: 'boolean', default: false },
      interval: { type: 'string', default: '2' },
    },
  });
  const interval = Number(values.interval);
  if (!values.stage || (values.status && values.cancel) || !(interval > 0)) throw new Error(USAGE);
  const channel = values.channel as string;
  const target = await stageTarget(values.stage, values.region);
  try {
    const control = new BackfillControl(target);
    if (values.status || values.cancel) {
      const job = values.cancel ? await control.cancel(channel) : await control.status(channel);
      if (job === undefined) {
        console.log(
          values.cancel
            ? `No backfill is running for channel "${channel}".`
            : `No backfill has run for channel "${channel}" on stage ${values.stage}.`,
        );
        return;
      }
      console.log(
        values.cancel ? `Cancelled: it stops after its current batch.\n${describeProgress(job)}` : describeSummary(job),
      );
      return;
    }
    const { job: startedJob, resumed } = await control.start(channel);
    console.log(
      resumed
        ? `A backfill is already running for channel "${channel}" (job ${startedJob.jobId}); it was nudged to continue. Following it (Ctrl-C stops following, not the job).`
        : `Backfill job ${startedJob.jobId} started for channel "${channel}" on stage ${values.stage}. Following it (Ctrl-C stops following, not the job).`,
    );
    let last = '';
    for (;;) {
      const job = await control.status(channel);
      if (job === undefined || job.jobId !== startedJob.jobId)
        throw new Error('the job item disappeared or was replaced; check with --status');
      if (job.status !== 'running') {
        console.log(describeSummary(job));
        if (job.status === 'failed') process.exitCode = 1;
        return;
      }
      const line = describeProgress(job);
      if (line !== last) console.log(line);
      last = line;
      await sleep(interval * 1000);
    }
  } finally {
    target.close();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
