import { validateSignature } from '@line/bot-sdk';

export const LINE_SIGNATURE_HEADER = 'x-line-signature';

/**
 * HMAC-SHA256 over the raw bytes, compared in constant time (the SDK uses timingSafeEqual).
 * Several secrets are accepted so a channel secret can be rotated without dropping webhooks.
 */
export function isValidLineSignature(raw: Buffer, secrets: readonly string[], signature: string | undefined): boolean {
  if (!signature) return false;
  return secrets.some((secret) => secret.length > 0 && validateSignature(raw, secret, signature));
}
