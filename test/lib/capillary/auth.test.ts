import { createHash } from 'node:crypto';

import { CapillaryAuth } from '../../../lib/capillary/auth';
import { CapillaryApiError, CapillaryUnavailableError } from '../../../lib/capillary/errors';
import { RIG_CAPILLARY_AUTH } from '../../../local/rigs/worker-rig';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';

describe('CapillaryAuth', () => {
  let standIn: CapillaryStandIn;
  const oauth = (overrides: Partial<typeof RIG_CAPILLARY_AUTH> = {}, baseUrl = standIn.url) =>
    new CapillaryAuth({ baseUrl, auth: { ...RIG_CAPILLARY_AUTH, ...overrides }, timeoutMs: 5000 });
  const tokenRequests = () => standIn.calls().filter((c) => c.path === '/v3/oauth/token/generate').length;

  beforeEach(async () => {
    standIn = await startCapillaryStandIn({ tokenTtlSeconds: 100 });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    return standIn.close();
  });

  it('sends Basic till:md5(password) without asking Capillary for anything', async () => {
    const auth = new CapillaryAuth({
      baseUrl: standIn.url,
      auth: { scheme: 'basic', id: 'local.till', secret: 'local-password', oauthHeaderName: '' },
      timeoutMs: 5000,
    });
    const digest = createHash('md5').update('local-password').digest('hex');

    expect(await auth.headers()).toEqual({
      authorization: `Basic ${Buffer.from(`local.till:${digest}`).toString('base64')}`,
    });
    expect(auth.usesOAuth).toBe(false);
    expect(standIn.calls()).toEqual([]);
  });

  it('generates one OAuth token for concurrent calls and reuses it', async () => {
    const auth = oauth();

    const [first, second] = await Promise.all([auth.headers(), auth.headers()]);
    const third = await auth.headers();

    expect(auth.usesOAuth).toBe(true);
    expect(first).toEqual({ [RIG_CAPILLARY_AUTH.oauthHeaderName]: expect.stringMatching(/^local-oauth\./) });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(tokenRequests()).toBe(1);
  });

  it('generates a new token once 80% of its lifetime has passed, or once told the token was refused', async () => {
    const auth = oauth();
    const started = Date.now();
    const first = await auth.headers();

    jest.spyOn(Date, 'now').mockReturnValue(started + 79_000);
    expect(await auth.headers()).toEqual(first);
    jest.spyOn(Date, 'now').mockReturnValue(started + 81_000);
    const second = await auth.headers();
    expect(second).not.toEqual(first);
    expect(tokenRequests()).toBe(2);

    auth.forgetToken();
    expect(await auth.headers()).not.toEqual(second);
    expect(tokenRequests()).toBe(3);
  });

  it('throws CapillaryUnavailableError when the token endpoint is throttled, down or unreachable', async () => {
    standIn.injectFault({ status: 429, times: 1, pathPrefix: '/v3/oauth' });
    await expect(oauth().headers()).rejects.toThrow(new CapillaryUnavailableError('token/generate', 1, 'HTTP 429'));

    const unreachable = oauth({}, 'http://127.0.0.1:1').headers();
    await expect(unreachable).rejects.toBeInstanceOf(CapillaryUnavailableError);
    await expect(unreachable).rejects.toMatchObject({ operation: 'token/generate', attempts: 1 });
  });

  it('throws CapillaryApiError pointing at the credentials when Capillary refuses them', async () => {
    const refused = oauth({ secret: 'wrong' }).headers();
    await expect(refused).rejects.toBeInstanceOf(CapillaryApiError);
    await expect(refused).rejects.toMatchObject({ operation: 'token/generate', status: 401, codes: [401] });
    await expect(refused).rejects.toThrow('CAPILLARY_CLIENT_KEY / CAPILLARY_CLIENT_SECRET');
  });
});
