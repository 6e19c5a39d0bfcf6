import { createHmac, timingSafeEqual } from 'node:crypto';

export const LINE_SIGNATURE_HEADER = 'x-line-signature';

/** An HMAC-SHA256 digest's length: a header that decodes to any other length matches no secret. */
const DIGEST_BYTES = 32;

/**
 * HMAC-SHA256 over the raw bytes, compared in constant time with the header decoded once (timingSafeEqual over
 * two 32-byte digests). Several secrets are accepted so a channel secret can be rotated without dropping webhooks.
 */
export function isValidLineSignature(raw: Buffer, secrets: readonly string[], signature: string | undefined): boolean {
  if (!signature) return false;
  // Never throws: characters outside the base64 alphabet are skipped, so garbage decodes to the wrong length.
  const received = Buffer.from(signature, 'base64');
  if (received.length !== DIGEST_BYTES) return false;
  return secrets.some(
    (secret) => secret.length > 0 && timingSafeEqual(createHmac('sha256', secret).update(raw).digest(), received),
  );
}
