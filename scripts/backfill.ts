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

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

import type { BackfillJob } from '../lib/store/backfill-job-store';
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient } from '../local/pipeline-admin-api';
import { BackfillControl, describeProgress, describeSummary } from '../ops/backfill-control';
import { backfillLogGroup, lastInvocationError, type InvocationError } from '../ops/backfill-invocation-errors';
import { LOCAL_REGION } from '../ops/serverless-resources';
import { STAGE_OPTIONS, stageTarget } from '../ops/stage-target';
import { parseCli, runCli, UsageError } from './cli';
import { refuseUnknownChannel } from './stage-config';

const USAGE =
  'usage: npm run backfill -- --stage <stage> [--channel <id>] [--region <region>] [--status | --cancel] [--interval <seconds>] [--url <local webhook URL>]';

/** Where the backfill function's failed invocations are told: the running pipeline locally, its log deployed. */
type FailureSource = { local: true; url: string } | { local: false; logs: CloudWatchLogsClient; logGroup: string };

/** How often a follow reads a deployed function's log (FilterLogEvents allows a few requests a second per account). */
const LOG_READ_INTERVAL_MS = 10_000;

/**
 * The backfill function's last failed invocation since the job last moved, as a line (and a key that changes with
 * each new failure): the reason a job shows `[running]` without progress. Locally only a failure of this job's
 * channel counts; deployed, the function's log does not say which channel's tick failed.
 */
async function invocationFailure(
  source: FailureSource,
  job: BackfillJob,
): Promise<{ key: string; line: string } | undefined> {
  const describe = (error: InvocationError) => ({
    key: error.at,
    line: `The backfill function failed at ${error.at} (SQS retries it): ${error.name}: ${error.message}`,
  });
  if (source.local) {
    const error = (await new PipelineAdminClient(source.url).probe())?.lastBackfillError;
    if (error === undefined || (error.channel !== undefined && error.channel !== job.channel)) return undefined;
    return Date.parse(error.at) >= job.updatedAt ? describe(error) : undefined;
  }
  const reading = await lastInvocationError(source.logs, source.logGroup, job.updatedAt);
  if ('unreadable' in reading)
    return {
      key: 'unreadable',
      line: `The backfill function's log could not be read (${reading.unreadable}): aws logs tail ${source.logGroup} --since 1h`,
    };
  if (reading.error === undefined) return undefined;
  const { key, line } = describe(reading.error);
  return {
    key,
    line: `${line}
  its log: aws logs tail ${source.logGroup} --since 1h`,
  };
}

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
  const source: FailureSource =
    values.stage === 'local'
      ? { local: true, url: values.url }
      : {
          local: false,
          logs: new CloudWatchLogsClient({ region: values.region ?? process.env.AWS_REGION ?? LOCAL_REGION }),
          logGroup: backfillLogGroup(values.stage),
        };
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
      const failure = job.status === 'running' ? await invocationFailure(source, job) : undefined;
      if (failure) console.log(failure.line);
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
    let failureReadAt = 0;
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
      if (source.local || Date.now() - failureReadAt >= LOG_READ_INTERVAL_MS) {
        failureReadAt = Date.now();
        const failure = await invocationFailure(source, job);
        if (failure && failure.key !== lastFailure) console.log(failure.line);
        lastFailure = failure?.key ?? lastFailure;
      }
      await sleep(interval * 1000);
    }
  } finally {
    target.close();
    if (!source.local) source.logs.destroy();
  }
}

runCli(main);
