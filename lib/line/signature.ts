import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export const LINE_SIGNATURE_HEADER = 'x-line-signature';

/** An HMAC-SHA256 digest's length: a header that decodes to any other length matches no secret. */
const DIGEST_BYTES = 32;

/** Each list's secrets as HMAC keys (none for an empty secret), made once: a channel's list lives as long as its config. */
const keysBySecrets = new WeakMap<readonly string[], readonly (KeyObject | undefined)[]>();

function hmacKeys(secrets: readonly string[]): readonly (KeyObject | undefined)[] {
  let keys = keysBySecrets.get(secrets);
  if (keys === undefined) {
    keys = secrets.map((secret) => (secret.length > 0 ? createSecretKey(secret, 'utf8') : undefined));
    keysBySecrets.set(secrets, keys);
  }
  return keys;
}

/**
 * HMAC-SHA256 over the raw bytes, compared in constant time with the header decoded once (timingSafeEqual over
 * two 32-byte digests). Several secrets are accepted so a channel secret can be rotated without dropping webhooks.
 */
export function isValidLineSignature(raw: Buffer, secrets: readonly string[], signature: string | undefined): boolean {
  if (!signature) return false;
  // Never throws: characters outside the base64 alphabet are skipped, so garbage decodes to the wrong length.
  const received = Buffer.from(signature, 'base64');
  if (received.length !== DIGEST_BYTES) return false;
  return hmacKeys(secrets).some((key) => {
    if (key === undefined) return false;
    // A base64 digest decoded into Buffer's pool costs less than the Buffer digest() allocates on its own.
    const expected = Buffer.from(createHmac('sha256', key).update(raw).digest('base64'), 'base64');
    return timingSafeEqual(expected, received);
  });
}
