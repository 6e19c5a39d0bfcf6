import type { APIGatewayProxyEventV2 } from 'aws-lambda';

import { PayloadTooLargeError } from './errors';

/** A body longer than this is over the byte limit before it is decoded or hashed. */
function encodedSizeLimit(maxBytes: number, isBase64: boolean): number {
  return isBase64 ? Math.ceil(maxBytes / 3) * 4 : maxBytes; // every UTF-16 unit is at least one UTF-8 byte
}

/** The exact bytes sent (and signed): API Gateway base64-encodes bodies it does not consider text. */
export function rawBodyBytes(body: string | undefined, isBase64Encoded: boolean): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * The request's body as the bytes the caller sent, or a 413 when it is over `maxBytes`. The encoded length
 * is checked first, so an oversized body costs no decoding.
 */
export function readBody(request: APIGatewayProxyEventV2, maxBytes: number): Buffer {
  const isBase64 = request.isBase64Encoded === true;
  if ((request.body?.length ?? 0) > encodedSizeLimit(maxBytes, isBase64)) throw bodyTooLarge(maxBytes);
  const raw = rawBodyBytes(request.body, isBase64);
  if (raw.length > maxBytes) throw bodyTooLarge(maxBytes);
  return raw;
}

/** Made only for a refusal: a closure per request would cost more than the check it serves. */
const bodyTooLarge = (maxBytes: number) => new PayloadTooLargeError('body-too-large', `body exceeds ${maxBytes} bytes`);
