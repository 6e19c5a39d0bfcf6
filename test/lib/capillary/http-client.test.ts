import { errorCodes } from '../../../lib/capillary/envelope';
import { CapillaryUnavailableError } from '../../../lib/capillary/errors';
import { CapillaryHttpClient, type CapillaryCallRecord } from '../../../lib/capillary/http-client';
import type { RateLimiter } from '../../../lib/capillary/rate-limiter';
import type { CapillaryAuthConfig } from '../../../lib/config/capillary-orgs';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';

const oauth: CapillaryAuthConfig = {
  scheme: 'oauth',
  id: 'local-client-key',
  secret: 'local-client-secret',
  oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN',
};

describe('CapillaryHttpClient against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  let records: CapillaryCallRecord[];
  let sleeps: number[];
  /** every take the client asked its limiter for, as [tokens, deadlineAt] */
  let takes: [number, number][];
  let budget: boolean;
  const limiter: RateLimiter = {
    take: async (tokens, deadlineAt) => {
      takes.push([tokens, deadlineAt]);
      return budget;
    },
  };

  beforeEach(async () => {
    standIn = await startCapillaryStandIn();
    records = [];
    sleeps = [];
    takes = [];
    budget = true;
  });
  afterEach(() => standIn.close());

  const client = (overrides: Partial<ConstructorParameters<typeof CapillaryHttpClient>[0]> = {}) =>
    new CapillaryHttpClient({
      baseUrl: standIn.url,
      auth: oauth,
      timeoutMs: 500,
      maxAttempts: 4,
      limiter,
      onCall: (call) => records.push(call),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
      ...overrides,
    });
  const lookup = (http: CapillaryHttpClient) =>
    http.request(
      'lookup-customer',
      'GET',
      '/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=x',
    );

  it('generates one OAuth token and reuses it across calls', async () => {
    const http = client();
    await lookup(http);
    await lookup(http);
    expect(standIn.calls().filter((c) => c.path.startsWith('/v3/oauth'))).toHaveLength(1);
  });

  it('retries 429/503 with exponential backoff and returns the answer that finally came', async () => {
    standIn.injectFault({ status: 429, times: 1, pathPrefix: '/v2/' });
    standIn.injectFault({ status: 503, times: 1, pathPrefix: '/v2/' });
    const response = await lookup(client());
    expect(response.attempts).toBe(3);
    expect(response.body.errors?.[0]?.code).toBe(8015);
    expect(sleeps).toEqual([200, 400]);
    expect(records.map((r) => r.status)).toEqual([429, 503, response.status]);
    expect(records.every((r) => typeof r.requestId === 'string')).toBe(true);
  });

  it('gives up after the configured attempts with the last problem named', async () => {
    standIn.injectFault({ status: 521, times: 10, pathPrefix: '/v2/' });
    await expect(lookup(client({ maxAttempts: 3 }))).rejects.toThrow(
      new CapillaryUnavailableError('lookup-customer', 3, 'HTTP 521'),
    );
  });

  it('starts no attempt the invocation has no time left for', async () => {
    // Prepare: 600 ms left; every attempt times out after 500 ms
    const http = client({ timeoutMs: 500, maxAttempts: 4 });
    await lookup(http); // token fetched first, outside the measured window
    standIn.injectFault({ kind: 'timeout', times: 10, delayMs: 3000, pathPrefix: '/v2/' });
    // Act
    const failure = http.request(
      'lookup-customer',
      'GET',
      '/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=x',
      undefined,
      { deadlineAt: Date.now() + 600 },
    );
    // Assess: one full attempt, then the 100 ms left is not worth another
    await expect(failure).rejects.toBeInstanceOf(CapillaryUnavailableError);
    expect(records.filter((r) => r.status === 'timeout')).toHaveLength(1);
    expect(records.filter((r) => r.status === 'timeout')[0]!.latencyMs).toBeGreaterThanOrEqual(490);
  });

  it('does not retry a validation error', async () => {
    const response = await client().request('add-customer', 'POST', '/v2/customers', {
      profiles: [{ source: 'NOPE', identifiers: [] }],
    });
    expect(response.attempts).toBe(1);
    expect(response.status).toBe(400);
  });

  it('treats a timeout as transient and retries it', async () => {
    standIn.injectFault({ kind: 'timeout', times: 1, delayMs: 2000, pathPrefix: '/v2/' });
    const response = await lookup(client({ timeoutMs: 200 }));
    expect(records[0]!.status).toBe('timeout');
    expect(response.attempts).toBe(2);
  });

  it('retries a throttled or unreachable token endpoint like any other call', async () => {
    standIn.injectFault({ status: 429, times: 1, pathPrefix: '/v3/oauth' });
    standIn.injectFault({ kind: 'timeout', times: 1, delayMs: 2000, pathPrefix: '/v3/oauth' });
    const response = await lookup(client({ timeoutMs: 200 }));
    expect(response.body.errors?.[0]?.code).toBe(8015);
    expect(sleeps).toHaveLength(2);
  });

  it('regenerates the token once when Capillary no longer accepts it', async () => {
    // Prepare: the stand-in's clock jumps past the token's lifetime while the client still trusts it
    await standIn.close();
    let now = Date.now();
    standIn = await startCapillaryStandIn({ tokenTtlSeconds: 3600, clock: () => now });
    const http = client();
    await lookup(http);
    now += 2 * 3600 * 1000;
    // Act
    const response = await lookup(http);
    // Assess
    expect(records.map((r) => r.status)).toEqual([response.status, 401, response.status]);
    expect(standIn.calls().filter((c) => c.path.startsWith('/v3/oauth'))).toHaveLength(2);
  });

  it('sends Basic auth as till:md5(password)', async () => {
    const response = await lookup(
      client({ auth: { scheme: 'basic', id: 'local.till', secret: 'local-password', oauthHeaderName: '' } }),
    );
    expect(errorCodes(response.body)).toEqual([8015]); // authenticated: the lookup ran and found nobody
    const wrong = await lookup(
      client({ auth: { scheme: 'basic', id: 'local.till', secret: 'wrong', oauthHeaderName: '' } }),
    );
    expect(wrong.status).toBe(401);
  });

  it("takes the call's cost from the rate limit before every attempt, retries included", async () => {
    // Prepare
    standIn.injectFault({ status: 429, times: 1, pathPrefix: '/v2/' });
    const deadlineAt = Date.now() + 10_000;
    // Act
    await client().request(
      'lookup-customer',
      'GET',
      '/v2/customers/lookup?source=INSTORE&identifierName=externalId&identifierValue=x',
      undefined,
      { deadlineAt, cost: 3 },
    );
    // Assess: a take leaves the time an attempt needs (250 ms) before the deadline
    expect(takes).toEqual([
      [3, deadlineAt - 250],
      [3, deadlineAt - 250],
    ]);
  });

  it('sends nothing when the rate limit has no budget before the deadline', async () => {
    budget = false;
    await expect(lookup(client())).rejects.toThrow(
      new CapillaryUnavailableError('lookup-customer', 0, 'no time left in this invocation'),
    );
    expect(takes.map(([tokens]) => tokens)).toEqual([1]);
    expect(standIn.calls().filter((c) => c.path.startsWith('/v2/'))).toHaveLength(0);
  });
});
