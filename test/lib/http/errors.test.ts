import { BridgeError } from '../../../lib/errors';
import {
  BadRequestError,
  HttpError,
  InvalidBearerTokenError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../../lib/http/errors';

describe('HttpError', () => {
  it('is a BridgeError with its status, reason, message and cause', () => {
    const cause = new Error('queue down');
    const error = new HttpError(500, 'enqueue-failed', 'events could not be queued; retry', { cause });
    expect(error).toBeInstanceOf(BridgeError);
    expect(error).toMatchObject({ name: 'HttpError', status: 500, reason: 'enqueue-failed', cause, headers: {} });
    expect(error.body).toEqual({ message: 'events could not be queued; retry' });
  });

  it('names the field at fault in its body, after the message', () => {
    expect(JSON.stringify(new BadRequestError('field-invalid', 'userId is wrong', { field: 'userId' }).body)).toBe(
      '{"message":"userId is wrong","field":"userId"}',
    );
  });

  it.each([
    [new BadRequestError('r', 'm'), 'BadRequestError', 400],
    [new UnauthorizedError('r', 'm'), 'UnauthorizedError', 401],
    [new NotFoundError('r', 'm'), 'NotFoundError', 404],
    [new PayloadTooLargeError('r', 'm'), 'PayloadTooLargeError', 413],
    [new ServiceUnavailableError('r', 'm', { retryAfterSeconds: 1 }), 'ServiceUnavailableError', 503],
  ])('%s is named %s and answers %d', (error, name, status) => {
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ name, status });
  });

  it('challenges with www-authenticate only when a 401 names a scheme', () => {
    expect(new UnauthorizedError('signature-invalid', 'invalid x-line-signature').headers).toEqual({});
    expect(new UnauthorizedError('id-token-rejected', 'm', { challenge: 'Bearer' }).headers).toEqual({
      'www-authenticate': 'Bearer',
    });
  });

  it('asks for a bearer token when one is missing or not accepted', () => {
    expect(new InvalidBearerTokenError()).toMatchObject({
      name: 'InvalidBearerTokenError',
      status: 401,
      reason: 'bearer-token-invalid',
      message: 'missing or invalid bearer token',
      headers: { 'www-authenticate': 'Bearer' },
    });
  });

  it('tells a caller of a 503 when to retry', () => {
    expect(new ServiceUnavailableError('dependency-failed', 'm', { retryAfterSeconds: 2 }).headers).toEqual({
      'retry-after': '2',
    });
  });
});
