import { BridgeError } from '../errors';

/**
 * The nonce store refused a consume the link rules accept: the nonce's record changed in between (another
 * delivery of the event consumed it at the same moment). The event is retried and looks again.
 */
export class NonceChangedError extends BridgeError {
  override readonly name = 'NonceChangedError';

  constructor(
    public readonly eventId: string,
    options?: { cause?: unknown },
  ) {
    super(`Nonce record changed while event ${eventId} consumed it; retrying`, options);
  }
}

/** An engagement route for a channel built without its behavioural-events client: a broken configuration object. */
export class EngagementNotConfiguredError extends BridgeError {
  override readonly name = 'EngagementNotConfiguredError';

  constructor(public readonly channel: string) {
    super(`Channel "${channel}" maps engagement events but has no behavioural-events client`);
  }
}

/**
 * A link must move the LINE profile of another channel of the provider (same user id) but the worker has no queue
 * to queue that channel's move into (QUEUE_URL unset): nothing was changed; the event is retried, then the DLQ.
 */
export class SiblingQueueMissingError extends BridgeError {
  override readonly name = 'SiblingQueueMissingError';

  constructor(
    public readonly eventId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Event ${eventId} must queue a link move for another channel of the provider, but QUEUE_URL is not set`,
      options,
    );
  }
}
