import { BridgeError } from '../../lib/errors';

/** A command named a channel the stage does not serve: refused before anything runs, listing the ones it does. */
export class UnknownChannelError extends BridgeError {
  override readonly name = 'UnknownChannelError';

  constructor(
    public readonly channel: string,
    public readonly known: readonly string[],
  ) {
    super(`No channel "${channel}" on this stage; its channels: ${known.join(', ')}. Pass one of them with --channel.`);
  }
}
