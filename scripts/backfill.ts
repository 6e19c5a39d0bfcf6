/**
 * npm run backfill -- --stage <stage> [--channel <id>] [--region <region>]   start (or resume) and follow the job
 * npm run backfill -- --stage <stage> --status | --cancel [--channel <id>]
 * (--stage local: add --url <webhook URL> when `npm start` does not run on the default ports)
 *
 * The job runs in the stack (the backfill function); this starts it and shows its progress until it ends.
 * `--stage local` drives the running `npm start`.
 */
import '../local/quiet-telemetry'; // first: the library's JSON logs and metrics are for CloudWatch; this prints its own lines

import { setTimeout as sleep } from 'node:timers/promises';

import type { BackfillJob } from '../lib/store/backfill-job-store';
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient, type BackfillInvocationError } from '../local/pipeline-admin-api';
import { BackfillControl, describeProgress, describeSummary } from '../ops/backfill-control';
import { STAGE_OPTIONS, stageTarget } from '../ops/stage-target';
import { parseCli, runCli, UsageError } from './cli';
import { refuseUnknownChannel } from './stage-config';

const USAGE =
  'usage: npm run backfill -- --stage <stage> [--channel <id>] [--region <region>] [--status | --cancel] [--interval <seconds>] [--url <local webhook URL>]';

/**
 * On the local stage, the backfill function's last failed invocation for this job's channel since the job last moved:
 * the reason a job shows `[running]` without progress. Deployed, the function's log holds it.
 */
async function invocationError(
  stage: string,
  url: string,
  job: BackfillJob,
): Promise<BackfillInvocationError | undefined> {
  if (stage !== 'local') return undefined;
  const error = (await new PipelineAdminClient(url).probe())?.lastBackfillError;
  if (error === undefined || (error.channel !== undefined && error.channel !== job.channel)) return undefined;
  return Date.parse(error.at) >= job.updatedAt ? error : undefined;
}

const describeInvocationError = (error: BackfillInvocationError) =>
  `The backfill function failed at ${error.at} (SQS retries it): ${error.name}: ${error.message}`;

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, {
    ...STAGE_OPTIONS,
    status: { type: 'boolean', default: false },
    cancel: { type: 'boolean', default: false },
    interval: { type: 'string', default: '2' },
    url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
  });
  const interval = Number(values.interval);
  if (!values.stage || (values.status && values.cancel) || !(interval > 0)) throw new UsageError(USAGE);
  const { channel } = values;
  const target = await stageTarget(values.stage, values.region);
  try {
    await refuseUnknownChannel(target, channel);
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
      const failure = job.status === 'running' ? await invocationError(values.stage, values.url, job) : undefined;
      if (failure) console.log(describeInvocationError(failure));
      return;
    }
    const { job: startedJob, resumed } = await control.start(channel);
    console.log(
      resumed
        ? `A backfill is already running for channel "${channel}" (job ${startedJob.jobId}); it was nudged to continue. Following it (Ctrl-C stops following, not the job).`
        : `Backfill job ${startedJob.jobId} started for channel "${channel}" on stage ${values.stage}. Following it (Ctrl-C stops following, not the job).`,
    );
    let last = '';
    let lastFailure = '';
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
      const failure = await invocationError(values.stage, values.url, job);
      if (failure && failure.at !== lastFailure) console.log(describeInvocationError(failure));
      lastFailure = failure?.at ?? lastFailure;
      await sleep(interval * 1000);
    }
  } finally {
    target.close();
  }
}

runCli(main);
