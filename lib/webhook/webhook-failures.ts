import { BadRequestError, HttpError, PayloadTooLargeError } from '../http/errors';
import { InvalidCallbackError } from '../line/errors';
import { countForChannel, logger } from '../observability/telemetry';
import { EnqueueError, EventNestingTooDeepError, EventTooLargeError } from '../queue/errors';

/**
 * The webhook's answer to what parsing and queueing throw: a signed body that is not a LINE callback (400),
 * an event SQS cannot hold (413 or 400), events not queued (500, so LINE redelivers them). Anything else
 * propagates.
 */
export function webhookHttpError(failure: unknown, channel: string): HttpError | undefined {
  if (failure instanceof InvalidCallbackError) {
    countForChannel('CallbackInvalid', channel);
    logger.warn('Rejected signed webhook with an invalid body', { channel, reason: failure.message });
    return new BadRequestError('callback-invalid', failure.message, { cause: failure });
  }
  if (failure instanceof EventTooLargeError)
    return new PayloadTooLargeError('event-too-large', failure.message, { cause: failure });
  if (failure instanceof EventNestingTooDeepError)
    return new BadRequestError('event-nesting-too-deep', failure.message, { cause: failure });
  if (failure instanceof EnqueueError) {
    countForChannel('EnqueueFailed', channel, failure.failedEventIds.length);
    logger.error('Could not enqueue every event; answering 500 so LINE redelivers', {
      channel,
      failed: failure.failedEventIds.length,
      reasons: [...new Set(failure.failures.map((f) => f.reason))],
    });
    return new HttpError(500, 'enqueue-failed', 'events could not be queued; retry', { cause: failure });
  }
  return undefined;
}
