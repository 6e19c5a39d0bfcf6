import { BridgeError } from '../errors';

/** A link API request that gets a 4xx: the status and a message naming what to fix. */
export class LinkRequestError extends BridgeError {
  override readonly name = 'LinkRequestError';

  constructor(
    public readonly status: 400 | 401 | 404 | 413,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
  }
}
