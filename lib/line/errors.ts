import { BridgeError } from '../errors';

/** A signed body that is not a LINE callback: `path` names the offending field (JSONPath-like). */
export class InvalidCallbackError extends BridgeError {
  override readonly name = 'InvalidCallbackError';

  constructor(
    message: string,
    public readonly path: string,
  ) {
    super(message);
  }
}

/** 403 on followers/ids: only Verified or Premium accounts may list their followers (docs/line.md#followers). */
export class FollowerListUnavailableError extends BridgeError {
  override readonly name = 'FollowerListUnavailableError';

  constructor(public readonly requestId: string | undefined) {
    super(
      'LINE refused to list followers (403): the account is neither Verified nor Premium, and only those may list their ' +
        'followers. Nothing was changed. Alternative: the daily insight check compares follower counts for every account, and ' +
        'new followers are synced live; see docs/operations.md#backfill',
    );
  }
}

/** 400 for a `start` token: it expired (24 h) or is invalid, so the listing starts again from the first page. */
export class FollowerCursorRejectedError extends BridgeError {
  override readonly name = 'FollowerCursorRejectedError';

  constructor(public readonly requestId: string | undefined) {
    super('LINE rejected the followers/ids continuation token (400: expired after 24 h, or invalid)');
  }
}

/** Any other failure of a LINE API call (after the bounded retries of 429/5xx/timeouts). */
export class LineApiError extends BridgeError {
  override readonly name = 'LineApiError';

  constructor(
    public readonly operation: string,
    public readonly status: number | 'timeout' | 'network-error',
    public readonly requestId: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `LINE ${operation} failed: ${typeof status === 'number' ? `HTTP ${status}` : status} ${detail}`.trim(),
      options,
    );
  }
}
