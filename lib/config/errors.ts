import { BridgeError } from '../errors';

/** Every configuration problem found at cold start, each naming the setting to fix. */
export class ConfigError extends BridgeError {
  override readonly name = 'ConfigError';

  constructor(
    public readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(`Invalid configuration: ${problems.join('; ')}`, options);
  }
}

/** A queued event names a channel this deployment no longer (or not yet) has in its configuration. */
export class ChannelNotConfiguredError extends BridgeError {
  override readonly name = 'ChannelNotConfiguredError';

  constructor(public readonly channel: string) {
    super(
      `channel "${channel}" is not configured (LINE_CHANNELS, or the single-channel variables for "default"); ` +
        'the event is retried, then waits in the DLQ',
    );
  }
}

/**
 * A channel's bot user id (its configured `destination`, or LINE's bot info for its token) is not the `destination`
 * its webhook events carry: the channel's token or destination belongs to another channel.
 */
export class ChannelDestinationMismatchError extends BridgeError {
  override readonly name = 'ChannelDestinationMismatchError';

  constructor(public readonly channel: string) {
    super(
      `channel "${channel}": its bot user id is not the destination of its webhook events; check that channel's ` +
        'channelAccessToken and destination in LINE_CHANNELS (npm run doctor compares them)',
    );
  }
}
