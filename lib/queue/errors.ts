import { BridgeError } from '../errors';

/** SQS limit for one message, and for one SendMessageBatch call. */
export const MAX_BATCH_BYTES = 256 * 1024;

export class EventTooLargeError extends BridgeError {
  override readonly name = 'EventTooLargeError';

  constructor(
    public readonly webhookEventId: string,
    public readonly bytes: number,
  ) {
    super(`Event ${webhookEventId} is ${bytes} bytes, over the ${MAX_BATCH_BYTES}-byte SQS message limit`);
  }
}

/** JSON.parse accepts nesting that JSON.stringify then cannot walk (its recursion runs out of stack). */
export class EventNestingTooDeepError extends BridgeError {
  override readonly name = 'EventNestingTooDeepError';

  constructor(
    public readonly webhookEventId: string,
    options?: { cause?: unknown },
  ) {
    super(`Event ${webhookEventId} is nested too deeply to be queued`, options);
  }
}

export interface EnqueueFailure {
  eventId: string;
  /** the SQS error code of a rejected entry, or the error of a failed call */
  reason: string;
  cause?: unknown;
}

export class EnqueueError extends BridgeError {
  override readonly name = 'EnqueueError';

  constructor(public readonly failures: EnqueueFailure[]) {
    super(
      `${failures.length} event(s) could not be enqueued: ${[...new Set(failures.map((f) => f.reason))].join('; ')}`,
      { cause: failures.find((f) => f.cause !== undefined)?.cause },
    );
  }

  get failedEventIds(): string[] {
    return this.failures.map((f) => f.eventId);
  }
}

export class InvalidQueuedEventError extends BridgeError {
  override readonly name = 'InvalidQueuedEventError';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Queued message is not a LINE event: ${reason}`, options);
  }
}

export class InvalidBackfillTickError extends BridgeError {
  override readonly name = 'InvalidBackfillTickError';

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Backfill queue message is not a tick {channel, jobId}: ${reason}`, options);
  }
}
