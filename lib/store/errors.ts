import { BridgeError } from '../errors';

/** Another worker holds an unexpired claim for this user: retry later (the claim expires if it died). */
export class ClaimHeldError extends BridgeError {
  override readonly name = 'ClaimHeldError';

  constructor(
    public readonly eventId: string,
    public readonly heldBy: string | undefined,
  ) {
    super(`User record is claimed by event ${heldBy ?? 'unknown'}; event ${eventId} will be retried`);
  }
}

/** Our claim expired and was taken over before we recorded the result: the retry re-evaluates. */
export class ClaimLostError extends BridgeError {
  override readonly name = 'ClaimLostError';

  constructor(
    public readonly eventId: string,
    options?: { cause?: unknown },
  ) {
    super(`Claim for event ${eventId} was lost before the result was recorded`, options);
  }
}

/** A backfill job for this channel is already running: one at a time, so the budget and the counters stay meaningful. */
export class BackfillAlreadyRunningError extends BridgeError {
  override readonly name = 'BackfillAlreadyRunningError';

  constructor(
    public readonly channel: string,
    public readonly jobId: string,
  ) {
    super(
      `A backfill (job ${jobId}) is already running for channel "${channel}": follow it with --status, or stop it with --cancel`,
    );
  }
}
