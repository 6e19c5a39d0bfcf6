import { createHash } from 'node:crypto';

import type { CapillaryAuthConfig } from '../config/capillary-orgs';
import { errorCodes, RETRIABLE_STATUSES, type CapillaryEnvelope } from './envelope';
import { CapillaryApiError, CapillaryUnavailableError } from './errors';

export interface CapillaryAuthOptions {
  baseUrl: string;
  auth: CapillaryAuthConfig;
  timeoutMs: number;
}

/**
 * The headers that authenticate a Capillary call: Basic `till:md5(password)`, or an OAuth token generated
 * once and shared by every channel on the org (one instance per org).
 */
export class CapillaryAuth {
  #token: { value: string; refreshAt: number } | undefined;
  #tokenRequest: Promise<string> | undefined;

  constructor(private readonly options: CapillaryAuthOptions) {}

  get usesOAuth(): boolean {
    return this.options.auth.scheme === 'oauth';
  }

  /** Throws CapillaryUnavailableError when the token endpoint is throttled or down, CapillaryApiError when it refuses. */
  async headers(): Promise<Record<string, string>> {
    const { auth } = this.options;
    if (auth.scheme === 'basic') {
      const digest = createHash('md5').update(auth.secret).digest('hex');
      return { authorization: `Basic ${Buffer.from(`${auth.id}:${digest}`).toString('base64')}` };
    }
    return { [auth.oauthHeaderName]: await this.#oauthToken() };
  }

  /** Capillary refused the token (revoked, or expired early): the next call generates a new one. */
  forgetToken(): void {
    this.#token = undefined;
  }

  async #oauthToken(): Promise<string> {
    if (this.#token && Date.now() < this.#token.refreshAt) return this.#token.value;
    // Concurrent records (of every channel on the org) share one token request.
    this.#tokenRequest ??= this.#generateToken().finally(() => {
      this.#tokenRequest = undefined;
    });
    return this.#tokenRequest;
  }

  async #generateToken(): Promise<string> {
    const { auth, baseUrl, timeoutMs } = this.options;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/v3/oauth/token/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ key: auth.id, secret: auth.secret }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new CapillaryUnavailableError(
        'token/generate',
        1,
        (error as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (error as Error).message,
      );
    }
    if (RETRIABLE_STATUSES.has(response.status))
      throw new CapillaryUnavailableError('token/generate', 1, `HTTP ${response.status}`);
    const body = (await response.json().catch(() => ({}))) as {
      data?: { accessToken?: string; ttlSeconds?: number };
    } & CapillaryEnvelope;
    const token = body.data?.accessToken;
    if (!response.ok || !token) {
      throw new CapillaryApiError(
        'token/generate',
        response.status,
        errorCodes(body),
        response.headers.get('x-cap-requestid') ?? undefined,
        '(check CAPILLARY_CLIENT_KEY / CAPILLARY_CLIENT_SECRET and the API client access group)',
      );
    }
    const ttlMs = Math.max(1, body.data?.ttlSeconds ?? 300) * 1000;
    // Refresh when 80% of the lifetime has passed, so no request goes out with a token about to expire.
    this.#token = { value: token, refreshAt: Date.now() + ttlMs * 0.8 };
    return token;
  }
}
