import type { CapillaryOrgConfig } from '../../../lib/config/capillary-orgs';
import { LOCAL_CREDENTIALS } from '../../../local/local-credentials';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';
import { startLineStandIn } from '../../../local/standins/line-standin';
import { checkCapillaryOrg, reportedRateLimit } from '../../../ops/doctor/capillary-checks';
import type { CheckResult } from '../../../ops/doctor/check';
import { closedAfterEach } from '../../support/closed-after-each';

const startCapillary = closedAfterEach(startCapillaryStandIn);
const startLine = closedAfterEach(startLineStandIn);
const CHANNELS = [{ id: 'th', capillaryLineAccountId: 'line-th' }];

const orgAt = (baseUrl: string, rateLimitPerMinute = 100): CapillaryOrgConfig => ({
  id: 'default',
  baseUrl,
  auth: {
    scheme: 'oauth',
    id: LOCAL_CREDENTIALS.capillaryClientKey,
    secret: LOCAL_CREDENTIALS.capillaryClientSecret,
    oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN',
  },
  rateLimitPerMinute,
});
const admin = (standIn: CapillaryStandIn, route: string, body: unknown) =>
  fetch(`${standIn.url}/__admin/${route}`, { method: 'POST', body: JSON.stringify(body) });
const statuses = (results: CheckResult[]) => Object.fromEntries(results.map(({ check, status }) => [check, status]));
const named = (results: CheckResult[], check: string) => results.find((result) => result.check === check);

describe('doctor: Capillary checks', () => {
  it('passes an org whose cluster, credentials and account answer as configured; the rate limit is unknown without headers', async () => {
    // Prepare
    const standIn = await startCapillary();
    // Act
    const results = await checkCapillaryOrg(orgAt(standIn.url), CHANNELS);
    // Assess
    expect(statuses(results)).toEqual({
      'base URL': 'pass',
      credentials: 'pass',
      'account of channel th': 'pass',
      'rate limit': 'unknown',
    });
  });

  it('fails a base URL that is not a Capillary cluster', async () => {
    // Prepare
    const line = await startLine();
    // Act
    const baseUrl = named(await checkCapillaryOrg(orgAt(line.url), CHANNELS), 'base URL');
    // Assess
    expect(baseUrl).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining("set capillaryBaseUrl to the org's cluster host"),
    });
  });

  it('fails credentials Capillary refuses, and does not judge the accounts without them', async () => {
    // Prepare
    const standIn = await startCapillary();
    await admin(standIn, 'faults', { status: 401, pathPrefix: '/v3/oauth/token/generate', times: 1 });
    // Act
    const results = await checkCapillaryOrg(orgAt(standIn.url), CHANNELS);
    // Assess
    expect(named(results, 'credentials')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('client key and secret'),
    });
    expect(named(results, 'account of channel th')?.status).toBe('unknown');
  });

  it('fails a source account the org does not know (8011) and names the setting', async () => {
    // Prepare
    const standIn = await startCapillary();
    await admin(standIn, 'faults', { status: 400, code: 8011, pathPrefix: '/v2/customers/lookup', times: 1 });
    // Act
    const account = named(await checkCapillaryOrg(orgAt(standIn.url), CHANNELS), 'account of channel th');
    // Assess
    expect(account).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('set capillaryLineAccountId of channel th'),
    });
  });

  it('compares the limit Capillary reports in its headers with capillaryRateLimitRpm', async () => {
    // Prepare
    const standIn = await startCapillary();
    await admin(standIn, 'headers', { 'X-RateLimit-Limit': '50' });
    // Act
    const tooFast = named(await checkCapillaryOrg(orgAt(standIn.url, 100), CHANNELS), 'rate limit');
    const within = named(await checkCapillaryOrg(orgAt(standIn.url, 50), CHANNELS), 'rate limit');
    // Assess
    expect(tooFast).toMatchObject({ status: 'fail', fix: 'set capillaryRateLimitRpm to 50 or less' });
    expect(within?.status).toBe('pass');
  });

  it.each([
    ['X-RateLimit-Limit', '600', 600],
    ['RateLimit-Limit', '100, 100;w=60', 100],
    ['X-Other', '5', undefined],
  ])('reads %s: %s', (header, value, limit) => {
    expect(reportedRateLimit(new Headers({ [header]: value }))?.limit).toBe(limit);
  });
});
