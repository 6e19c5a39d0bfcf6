import { BridgeError } from '../errors';

export interface HttpErrorOptions {
  /** the request field at fault (JSONPath-like, `$` for the whole body), named in the answer */
  field?: string;
  /** headers the answer carries besides the endpoint's own */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * A request the bridge answers with an error status. `reason` is short and stable for machines; the message
 * names the problem for the caller and is the answer's body, with the field at fault when there is one.
 */
export class HttpError extends BridgeError {
  override readonly name: string = 'HttpError';
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    { field, headers = {}, cause }: HttpErrorOptions = {},
  ) {
    super(message, { cause });
    this.field = field;
    this.headers = headers;
  }

  get body(): Record<string, unknown> {
    return { message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';

  constructor(reason: string, message: string, options?: Pick<HttpErrorOptions, 'field' | 'cause'>) {
    super(400, reason, message, options);
  }
}

/** 401; with a `challenge` (an auth scheme such as `Bearer`) the answer says how to authenticate (RFC 9110 §11.6.1). */
export class UnauthorizedError extends HttpError {
  override readonly name: string = 'UnauthorizedError';

  constructor(reason: string, message: string, options: { field?: string; challenge?: string } = {}) {
    const { challenge, field } = options;
    super(401, reason, message, { field, headers: challenge ? { 'www-authenticate': challenge } : {} });
  }
}

export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';

  constructor(reason: string, message: string, options?: Pick<HttpErrorOptions, 'field'>) {
    super(404, reason, message, options);
  }
}

/** 409: the request conflicts with what was done already (an ID token used once). */
export class ConflictError extends HttpError {
  override readonly name = 'ConflictError';

  constructor(reason: string, message: string, options?: Pick<HttpErrorOptions, 'field'>) {
    super(409, reason, message, options);
  }
}

export class PayloadTooLargeError extends HttpError {
  override readonly name = 'PayloadTooLargeError';

  constructor(reason: string, message: string, options?: Pick<HttpErrorOptions, 'cause'>) {
    super(413, reason, message, options);
  }
}

/** 503: a dependency failed; `retry-after` tells the caller when to try again. */
export class ServiceUnavailableError extends HttpError {
  override readonly name = 'ServiceUnavailableError';

  constructor(
    reason: string,
    message: string,
    { retryAfterSeconds, cause }: { retryAfterSeconds: number; cause?: unknown },
  ) {
    super(503, reason, message, { headers: { 'retry-after': String(retryAfterSeconds) }, cause });
  }
}

/** No `Authorization: Bearer <token>` with an accepted token (RFC 6750 §3). */
export class InvalidBearerTokenError extends UnauthorizedError {
  override readonly name = 'InvalidBearerTokenError';

  constructor() {
    super('bearer-token-invalid', 'missing or invalid bearer token', { challenge: 'Bearer' });
  }
}
