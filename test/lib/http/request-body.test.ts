import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { PayloadTooLargeError } from '../../../lib/http/errors';
import { rawBodyBytes, readBody } from '../../../lib/http/request-body';

const sample = (file: string) => readFileSync(join(__dirname, '..', '..', '..', 'events', file));
const request = (body: string | undefined, isBase64Encoded = false) =>
  ({ body, isBase64Encoded }) as APIGatewayProxyEventV2;

describe('rawBodyBytes', () => {
  it('decodes a base64 body to the bytes LINE signed', () => {
    const body = sample('04-text-message.json');
    expect(rawBodyBytes(body.toString('base64'), true).equals(body)).toBe(true);
  });

  it('keeps a text body byte-exact, escapes and emoji included', () => {
    const text = '{"text":"\\uD83E\\uDD28 🤨 こんにちは"}';
    expect(rawBodyBytes(text, false).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });
});

describe('readBody', () => {
  afterEach(() => jest.restoreAllMocks());

  it('answers the bytes of a text body and of a base64 body within the limit', () => {
    const body = sample('02-follow.json');
    expect(readBody(request(body.toString('utf8')), body.length).equals(body)).toBe(true);
    expect(readBody(request(body.toString('base64'), true), body.length).equals(body)).toBe(true);
    expect(readBody(request(undefined), 0).length).toBe(0);
  });

  it('refuses a body over the limit with 413 naming the limit, before decoding it', () => {
    // Prepare: 2 KiB of base64 for a 1 KiB limit; any decoding would go through Buffer.from
    const decode = jest.spyOn(Buffer, 'from');
    const encoded = Buffer.alloc(1536).toString('base64');
    decode.mockClear();
    // Act
    const refusal = (() => {
      try {
        return readBody(request(encoded, true), 1024);
      } catch (error) {
        return error;
      }
    })();
    // Assess
    expect(refusal).toBeInstanceOf(PayloadTooLargeError);
    expect(refusal).toMatchObject({ status: 413, reason: 'body-too-large', message: 'body exceeds 1024 bytes' });
    expect(decode).not.toHaveBeenCalled();
  });

  it('lets base64 up to 4 characters per 3 bytes of the limit through to the decoded check', () => {
    // 8 base64 characters hold at most 6 bytes: "aGVsbG8=" is 5 ("hello"), "aGVsbG8h" is 6 ("hello!")
    expect(readBody(request('aGVsbG8=', true), 5).toString()).toBe('hello');
    expect(() => readBody(request('aGVsbG8h', true), 5)).toThrow('body exceeds 5 bytes');
    expect(() => readBody(request('aGVsbG8hIQ==', true), 5)).toThrow(PayloadTooLargeError);
  });

  it('counts the UTF-8 bytes of a text body, not its characters', () => {
    expect(readBody(request('ééé'), 6).length).toBe(6);
    expect(() => readBody(request('ééé'), 5)).toThrow('body exceeds 5 bytes');
    expect(() => readBody(request('abcdef'), 5)).toThrow(PayloadTooLargeError);
  });
});
