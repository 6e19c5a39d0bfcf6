import { BridgeError } from '../errors';

/** Every configuration problem found at cold start, each naming the setting to fix. */
export class ConfigError extends BridgeError {
  override readonly name = 'ConfigError';

  constructor(public readonly problems: string[], options?: { cause?: unknown }) {
    super(`Invalid configuration: ${problems.join('; ')}`, options);
  }
}
