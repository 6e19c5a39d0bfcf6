import { apiErrorOf, envelopeOf, errorCodes, warningCodes } from '../../../lib/capillary/envelope';
import { CapillaryApiError } from '../../../lib/capillary/errors';

describe('envelopeOf', () => {
  it('reads the JSON object of a body; an empty body or JSON that is not an object is an empty envelope', () => {
    expect(envelopeOf('{"entity":5,"errors":[]}')).toEqual({ entity: 5, errors: [] });
    expect(envelopeOf('')).toEqual({});
    expect(envelopeOf('null')).toEqual({});
    expect(envelopeOf('42')).toEqual({});
  });

  it('throws for a body that is not JSON (the client reads it as an empty envelope)', () => {
    expect(() => envelopeOf('<html>')).toThrow(SyntaxError);
  });
});

describe('errorCodes and warningCodes', () => {
  it('list the codes as numbers, none for a missing or null list', () => {
    const body = { errors: [{ code: 8015 }, { code: '8065' as unknown as number }], warnings: [{ code: 8050 }] };
    expect(errorCodes(body)).toEqual([8015, 8065]);
    expect(warningCodes(body)).toEqual([8050]);
    expect(errorCodes({ errors: null })).toEqual([]);
    expect(warningCodes({})).toEqual([]);
  });
});

describe('apiErrorOf', () => {
  it('names the operation, status, codes, request id and every message Capillary gave', () => {
    const error = apiErrorOf('lookup-customer', {
      status: 400,
      body: { errors: [{ code: 8013, message: 'Invalid identifier' }, { code: 8012 }, { code: 1, message: 'x' }] },
      requestId: 'req-1',
      attempts: 1,
    });
    expect(error).toBeInstanceOf(CapillaryApiError);
    expect(error).toMatchObject({ operation: 'lookup-customer', status: 400, codes: [8013, 8012, 1] });
    expect(error.requestId).toBe('req-1');
    expect(error.message).toBe(
      'Capillary lookup-customer failed: HTTP 400, codes [8013, 8012, 1] Invalid identifier; x',
    );
  });
});
