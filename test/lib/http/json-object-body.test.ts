import { BadRequestError } from '../../../lib/http/errors';
import { parseJsonObject } from '../../../lib/http/json-object-body';

const refusalOf = (raw: string): unknown => {
  try {
    parseJsonObject(Buffer.from(raw, 'utf8'));
  } catch (error) {
    return error;
  }
  throw new Error(`${raw} was accepted`);
};

describe('parseJsonObject', () => {
  it('answers the fields of a JSON object, text in UTF-8 included', () => {
    expect(parseJsonObject(Buffer.from('{"name":"สมชาย","n":[1]}', 'utf8'))).toEqual({ name: 'สมชาย', n: [1] });
  });

  it.each(['{nope', '', '{"a":1'])('refuses %j with 400 "body must be JSON" on the whole body', (raw) => {
    const refusal = refusalOf(raw);
    expect(refusal).toBeInstanceOf(BadRequestError);
    expect(refusal).toMatchObject({ status: 400, reason: 'body-not-json', message: 'body must be JSON', field: '$' });
  });

  it.each(['["x"]', 'null', '"text"', '42'])('refuses %s with 400 "body must be a JSON object"', (raw) => {
    expect(refusalOf(raw)).toMatchObject({
      status: 400,
      reason: 'body-not-object',
      message: 'body must be a JSON object',
      field: '$',
    });
  });
});
