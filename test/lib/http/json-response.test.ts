import { jsonResponse } from '../../../lib/http/json-response';

describe('jsonResponse', () => {
  it('answers the status, the body as JSON and the JSON content type', () => {
    expect(jsonResponse(200, { enqueued: 2 })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"enqueued":2}',
    });
  });

  it('adds the headers after the content type, in their order', () => {
    const response = jsonResponse(202, {}, { 'cache-control': 'no-store', 'retry-after': '1' });
    expect(Object.entries(response.headers!)).toEqual([
      ['content-type', 'application/json'],
      ['cache-control', 'no-store'],
      ['retry-after', '1'],
    ]);
  });
});
