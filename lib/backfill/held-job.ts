import type { BackfillTickMessage as BackfillTick } from '../queue/backfill-ticks';
import type { BackfillJob, BackfillJobStore, CheckpointPatch } from '../store/backfill-job-store';

/** The job as this invocation holds it: every checkpoint is written under the hold, or finds it lost. */
export class HeldJob {
  #job: BackfillJob;

  constructor(
    private readonly jobs: BackfillJobStore,
    readonly tick: BackfillTick,
    private readonly owner: string,
    acquired: BackfillJob,
  ) {
    this.#job = acquired;
  }

  /** the job as the last checkpoint wrote it */
  get job(): BackfillJob {
    return this.#job;
  }

  /** false when the job was cancelled or taken over meanwhile: nothing was written, the tick stops. */
  async checkpoint(patch: CheckpointPatch): Promise<boolean> {
    const updated = await this.jobs.checkpoint(this.tick.channel, this.tick.jobId, this.owner, patch, Date.now());
    if (updated !== undefined) this.#job = updated;
    return updated !== undefined;
  }

  /** The listing starts again from the first page (known followers cost nothing). */
  restartListing(): Promise<boolean> {
    return this.checkpoint({ cursor: undefined, restarts: this.job.restarts + 1 });
  }
}
