import { BridgeError } from '../errors';

/** A function was invoked with another event than the one it takes (most often by hand, with the wrong sample). */
export class EventShapeError extends BridgeError {
  override readonly name = 'EventShapeError';

  constructor(message: string) {
    super(message);
    // The message names the fix; a stack of minified frames would only bury it (sls invoke local prints the stack).
    this.stack = `${this.name}: ${message}`;
  }
}
