import { BridgeError } from '../errors';

export class UnsupportedEventTypeError extends BridgeError {
  override readonly name = 'UnsupportedEventTypeError';

  constructor(public readonly eventType: string) {
    super(`No sync rule for LINE event type "${eventType}"`);
  }
}

/** A link API request field that is missing or malformed: `field` names it (e.g. `customer.mobile`). */
export class InvalidLinkFieldError extends BridgeError {
  override readonly name = 'InvalidLinkFieldError';

  constructor(
    public readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}
