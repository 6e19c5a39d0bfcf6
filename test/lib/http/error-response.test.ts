import { errorResponse } from '../../../lib/http/error-response';
import { BadRequestError, HttpError, NotFoundError, ServiceUnavailableError } from '../../../lib/http/errors';

class QueueDown extends Error {}

describe('errorResponse', () => {
  it('answers an HttpError with its status, its body as JSON and its headers after the endpoint headers', () => {
    const response = errorResponse(new NotFoundError('unknown-channel', 'unknown channel "x"', { field: 'channel' }), {
      headers: { 'cache-control': 'no-store' },
    });
    expect(response).toEqual({
      statusCode: 404,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"message":"unknown channel \\"x\\"","field":"channel"}',
    });
  });

  it('answers what the endpoint translates another error into', () => {
    const translate = (failure: unknown) =>
      failure instanceof QueueDown
        ? new ServiceUnavailableError('dependency-failed', 'temporarily unavailable; retry', { retryAfterSeconds: 1 })
        : undefined;
    expect(errorResponse(new QueueDown(), { translate })).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: '{"message":"temporarily unavailable; retry"}',
    });
  });

  it('rethrows an error that is no HttpError and that the endpoint does not translate', () => {
    const bug = new TypeError('undefined is not a function');
    expect(() => errorResponse(bug)).toThrow(bug);
    expect(() => errorResponse(bug, { translate: () => undefined })).toThrow(bug);
  });

  it('tells the endpoint of each 4xx it answers, and of no 5xx', () => {
    // Prepare
    const refusals: HttpError[] = [];
    const onRefused = (refusal: HttpError) => refusals.push(refusal);
    const badField = new BadRequestError('field-invalid', 'm', { field: 'userId' });
    // Act
    errorResponse(badField, { onRefused });
    errorResponse(new QueueDown(), { onRefused, translate: () => new HttpError(500, 'enqueue-failed', 'retry') });
    // Assess
    expect(refusals).toEqual([badField]);
  });
});
