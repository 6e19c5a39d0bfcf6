import { BridgeError } from '../errors';

/** A signed body that is not a LINE callback: `path` names the offending field (JSONPath-like). */
export class InvalidCallbackError extends BridgeError {
  override readonly name = 'InvalidCallbackError';

  constructor(message: string, public readonly path: string) {
    super(message);
  }
}
