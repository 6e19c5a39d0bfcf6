/**
 * Starting, following and cancelling the backfill job of a stage (npm run backfill). The job runs in the
 * stack; this only writes its item, queues its first invocation, and reads its progress.
 */
import { randomUUID } from 'node:crypto';

import { etaSeconds, type BackfillCounters } from '../lib/domain/backfill-rules';
import { sendBackfillTick } from '../lib/queue/backfill-ticks';
import { BackfillJobStore, type BackfillJob } from '../lib/store/backfill-job-store';
import { BackfillAlreadyRunningError } from '../lib/store/errors';
import type { StageTarget } from './stage-target';

/** The committed pages plus the page in progress. */
export function progressOf(job: BackfillJob): BackfillCounters {
  const total = { ...job.counters };
  for (const key of Object.keys(total) as (keyof BackfillCounters)[])
    if (key !== 'pages') total[key] += job.pageCounters[key];
  return total;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** One line: pages, ids seen, already known, registered, opted in, deferred, failed, Capillary calls, ETA. */
export function describeProgress(job: BackfillJob): string {
  const p = progressOf(job);
  const eta =
    job.status === 'running' && job.followersPerHour !== undefined
      ? etaSeconds(p, job.estimatedFollowers, job.followersPerHour)
      : undefined;
  return [
    `[${job.status}]`,
    `pages ${p.pages}`,
    `ids seen ${p.idsSeen}${job.estimatedFollowers === undefined ? '' : ` of ~${job.estimatedFollowers}`}`,
    `already known ${p.alreadyKnown}`,
    `registered ${p.registered}`,
    `opted in ${p.optedIn}`,
    `handed to the pipeline ${p.deferred}`,
    `failed ${p.failed}`,
    `Capillary calls ${p.capillaryCalls}`,
    ...(job.restarts > 0 ? [`restarts ${job.restarts}`] : []),
    ...(eta === undefined ? [] : [`ETA ${duration(eta)} at ${Math.round(job.followersPerHour as number)} followers/h`]),
  ].join(' · ');
}

export function describeSummary(job: BackfillJob): string {
  const seconds = Math.round(((job.finishedAt ?? job.updatedAt) - job.startedAt) / 1000);
  const lines = [`Backfill ${job.jobId} ${job.status} after ${duration(seconds)}.`, describeProgress(job)];
  if (job.message) lines.push(job.message);
  const failed = progressOf(job).failed;
  if (failed > 0)
    lines.push(
      `${failed} follower(s) Capillary kept rejecting wait in the events DLQ with their reason: fix the cause, then npm run redrive (docs/operations.md#backfill).`,
    );
  return lines.join('\n');
}

export class BackfillControl {
  readonly #jobs: BackfillJobStore;

  constructor(private readonly target: StageTarget) {
    this.#jobs = new BackfillJobStore(target.dynamo, target.tableName);
  }

  status(channel: string): Promise<BackfillJob | undefined> {
    return this.#jobs.read(channel);
  }

  /**
   * A new job, or — when one is running — another tick for it (harmless: a tick that finds the job held
   * by a live invocation is dropped), so a job stalled after its tick reached the DLQ can be resumed.
   */
  async start(channel: string): Promise<{ job: BackfillJob; resumed: boolean }> {
    let job: BackfillJob;
    let resumed = false;
    try {
      job = await this.#jobs.start(channel, randomUUID(), Date.now());
    } catch (error) {
      if (!(error instanceof BackfillAlreadyRunningError)) throw error;
      job = (await this.#jobs.read(channel)) as BackfillJob;
      resumed = true;
    }
    await sendBackfillTick(this.target.sqs, this.target.backfillQueueUrl, { channel, jobId: job.jobId });
    return { job, resumed };
  }

  cancel(channel: string): Promise<BackfillJob | undefined> {
    return this.#jobs.cancel(channel, Date.now());
  }
}
