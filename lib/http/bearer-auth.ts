import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Whether an `Authorization` header value is `Bearer <one of tokens>`. Several tokens are accepted so one can
 * be rotated without refusing callers. Compared as SHA-256 digests (equal length) with timingSafeEqual.
 */
export function isAuthorized(authorization: string | undefined, tokens: readonly string[]): boolean {
  const presented = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (presented === undefined) return false;
  const wanted = digest(presented);
  // Every token is compared, so the time taken does not tell which one (if any) matched.
  return tokens.reduce((matched, token) => timingSafeEqual(wanted, digest(token)) || matched, false);
}
