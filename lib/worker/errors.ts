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
