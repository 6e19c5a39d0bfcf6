import { LineApiError } from './errors';

/** A valid token's `iat` and `exp` in epoch ms: the link API refuses old tokens and remembers used ones until `exp`. */
export type IdTokenVerdict =
  { valid: true; userId: string; issuedAt: number; expiresAt: number } | { valid: false; reason: string };

const ISSUER = 'https://access.line.me';

/**
 * LINE Login / LIFF ID tokens, verified by LINE itself (`POST /oauth2/v2.1/verify`, docs/line.md#id-token):
 * `sub` is the Messaging API user id of every channel of the same provider. `@line/bot-sdk` v11 has no
 * helper for this. A refused token is a verdict; LINE being unreachable is an error (the caller answers 503).
 */
export class LineIdTokenVerifier {
  constructor(private readonly options: { baseUrl: string; timeoutMs: number }) {}

  async verify(idToken: string, clientId: string, now = Date.now()): Promise<IdTokenVerdict> {
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}/oauth2/v2.1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id_token: idToken, client_id: clientId }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new LineApiError(
        'verify-id-token',
        (error as Error).name === 'TimeoutError' ? 'timeout' : 'network-error',
        undefined,
        '',
        { cause: error },
      );
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 400)
      return {
        valid: false,
        reason: typeof body.error_description === 'string' ? body.error_description : 'invalid_request',
      };
    if (!response.ok)
      throw new LineApiError(
        'verify-id-token',
        response.status,
        response.headers.get('x-line-request-id') ?? undefined,
        '',
      );
    // LINE checked these already; checked again so that a misrouted answer can never link anyone.
    if (body.iss !== ISSUER) return { valid: false, reason: 'unexpected issuer' };
    if (body.aud !== clientId) return { valid: false, reason: 'audience is not this LINE Login channel' };
    if (typeof body.exp !== 'number' || body.exp * 1000 <= now) return { valid: false, reason: 'expired' };
    if (typeof body.sub !== 'string' || !/^U[0-9a-f]{32}$/.test(body.sub))
      return { valid: false, reason: 'no user id' };
    if (typeof body.iat !== 'number') return { valid: false, reason: 'no issue time' };
    return { valid: true, userId: body.sub, issuedAt: body.iat * 1000, expiresAt: body.exp * 1000 };
  }
}
