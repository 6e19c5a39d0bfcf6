import { BridgeError } from '../errors';

export class UnsupportedEventTypeError extends BridgeError {
  override readonly name = 'UnsupportedEventTypeError';

  constructor(public readonly eventType: string) {
    super(`No sync rule for LINE event type "${eventType}"`);
  }
}
