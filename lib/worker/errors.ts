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
