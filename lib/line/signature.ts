import { validateSignature } from '@line/bot-sdk';

export const LINE_SIGNATURE_HEADER = 'x-line-signature';

/** HTTP header names are case-insensitive; API Gateway v2 lowercases them, other front doors may not. */
export function findHeader(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The exact bytes LINE signed: API Gateway base64-encodes bodies it does not consider text. */
export function rawBodyBytes(body: string | undefined, isBase64Encoded: boolean): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  return Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * HMAC-SHA256 over the raw bytes, compared in constant time (the SDK uses timingSafeEqual).
 * Several secrets are accepted so a channel secret can be rotated without dropping webhooks.
 */
export function isValidLineSignature(raw: Buffer, secrets: readonly string[], signature: string | undefined): boolean {
  if (!signature) return false;
  return secrets.some((secret) => secret.length > 0 && validateSignature(raw, secret, signature));
}
