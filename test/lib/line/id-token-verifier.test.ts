import { LineApiError } from '../../../lib/line/errors';
import { LineIdTokenVerifier } from '../../../lib/line/id-token-verifier';
import { lineUserId } from '../../../local/line-event-factory';
import { startLineStandIn, type LineStandIn } from '../../../local/standins/line-standin';

const CLIENT_ID = '2000000001';

describe('LineIdTokenVerifier against the LINE stand-in', () => {
  let line: LineStandIn;
  const verifier = (overrides: { baseUrl?: string; timeoutMs?: number } = {}) =>
    new LineIdTokenVerifier({ baseUrl: line.url, timeoutMs: 5000, ...overrides });

  beforeEach(async () => {
    line = await startLineStandIn();
  });
  afterEach(() => line.close());

  it("answers the token's user id when LINE verified it for this channel", async () => {
    const userId = lineUserId();
    const issuedAt = Date.now() - 5000;
    const idToken = line.issueIdToken(userId, CLIENT_ID, { issuedAt });

    expect(await verifier().verify(idToken, CLIENT_ID)).toEqual({
      valid: true,
      userId,
      issuedAt: Math.floor(issuedAt / 1000) * 1000,
      expiresAt: Math.floor(issuedAt / 1000) * 1000 + 3600_000,
    });
  });

  it("answers LINE's reason for a token it refuses (400): unknown, expired, or for another channel", async () => {
    const userId = lineUserId();

    expect(await verifier().verify('made-up', CLIENT_ID)).toEqual({ valid: false, reason: 'Invalid IdToken.' });
    expect(await verifier().verify(line.issueIdToken(userId, CLIENT_ID, { expired: true }), CLIENT_ID)).toEqual({
      valid: false,
      reason: 'IdToken expired.',
    });
    expect(await verifier().verify(line.issueIdToken(userId, '2000000002'), CLIENT_ID)).toEqual({
      valid: false,
      reason: 'Invalid IdToken Audience.',
    });
  });

  it('checks the expiry again against its own clock', async () => {
    const idToken = line.issueIdToken(lineUserId(), CLIENT_ID);
    const inTwoHours = Date.now() + 2 * 3600 * 1000;

    expect(await verifier().verify(idToken, CLIENT_ID, inTwoHours)).toEqual({ valid: false, reason: 'expired' });
  });

  it('throws LineApiError for any other status, a timeout and an unreachable LINE: the caller answers 503', async () => {
    line.injectFault({ status: 503, times: 1, pathPrefix: '/oauth2/' });
    await expect(verifier().verify('t', CLIENT_ID)).rejects.toMatchObject({
      name: 'LineApiError',
      operation: 'verify-id-token',
      status: 503,
      requestId: expect.any(String),
    });

    line.configure({ latencyMs: 300 });
    await expect(verifier({ timeoutMs: 50 }).verify('t', CLIENT_ID)).rejects.toMatchObject({ status: 'timeout' });

    const unreachable = verifier({ baseUrl: 'http://127.0.0.1:1' }).verify('t', CLIENT_ID);
    await expect(unreachable).rejects.toBeInstanceOf(LineApiError);
    await expect(unreachable).rejects.toMatchObject({ status: 'network-error' });
  });
});

describe('LineIdTokenVerifier on a misrouted answer', () => {
  const userId = lineUserId();
  const now = Date.UTC(2026, 0, 1);
  const valid = {
    iss: 'https://access.line.me',
    aud: CLIENT_ID,
    exp: now / 1000 + 60,
    iat: now / 1000 - 10,
    sub: userId,
  };
  let fetchSpy: jest.SpiedFunction<typeof fetch>;
  const verdictOn = (body: Record<string, unknown>) => {
    fetchSpy.mockResolvedValue(Response.json(body));
    return new LineIdTokenVerifier({ baseUrl: 'https://line.invalid', timeoutMs: 5000 }).verify('t', CLIENT_ID, now);
  };

  beforeEach(() => {
    fetchSpy = jest.spyOn(globalThis, 'fetch');
  });
  afterEach(() => fetchSpy.mockRestore());

  it('links nobody unless issuer, audience, expiry, issue time and user id all check out', async () => {
    expect(await verdictOn(valid)).toEqual({ valid: true, userId, issuedAt: now - 10_000, expiresAt: now + 60_000 });
    expect(await verdictOn({ ...valid, iat: undefined })).toEqual({ valid: false, reason: 'no issue time' });
    expect(await verdictOn({ ...valid, iss: 'https://example.com' })).toEqual({
      valid: false,
      reason: 'unexpected issuer',
    });
    expect(await verdictOn({ ...valid, aud: '2000000002' })).toEqual({
      valid: false,
      reason: 'audience is not this LINE Login channel',
    });
    expect(await verdictOn({ ...valid, exp: now / 1000 })).toEqual({ valid: false, reason: 'expired' });
    expect(await verdictOn({ ...valid, exp: String(now / 1000 + 60) })).toEqual({ valid: false, reason: 'expired' });
    expect(await verdictOn({ ...valid, sub: 'not-a-user-id' })).toEqual({ valid: false, reason: 'no user id' });
    expect(await verdictOn({ ...valid, sub: undefined })).toEqual({ valid: false, reason: 'no user id' });
  });

  it('sends the token and client id form-encoded to /oauth2/v2.1/verify', async () => {
    await verdictOn(valid);
    const [url, init] = fetchSpy.mock.calls[0]!;
    expect(url).toBe('https://line.invalid/oauth2/v2.1/verify');
    expect(init?.method).toBe('POST');
    expect(String(init?.body)).toBe(`id_token=t&client_id=${CLIENT_ID}`);
  });
});
