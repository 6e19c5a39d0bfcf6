import { checkChannelOrgs, readCapillaryOrgs, type CapillaryOrgConfig } from '../../../lib/config/capillary-orgs';
import { ById } from '../../../lib/config/channels';
import { readConfig } from '../../../lib/config/env-reader';
import { noSsm, problemsOf } from './config-fixtures';

const oauthEnv = { CAPILLARY_BASE_URL: 'https://eu.api.capillarytech.com', CAPILLARY_CLIENT_KEY: 'k' };

describe('readCapillaryOrgs', () => {
  it('reads the default org with OAuth, its header name and rate limit as set', async () => {
    const env = {
      ...oauthEnv,
      CAPILLARY_CLIENT_SECRET: 's',
      CAPILLARY_OAUTH_HEADER: 'X-OTHER',
      CAPILLARY_RATE_LIMIT_RPM: '300',
    };
    const orgs = await readConfig(env, noSsm, readCapillaryOrgs);
    expect(orgs.all).toEqual([
      {
        id: 'default',
        baseUrl: 'https://eu.api.capillarytech.com',
        auth: { scheme: 'oauth', id: 'k', secret: 's', oauthHeaderName: 'X-OTHER' },
        rateLimitPerMinute: 300,
      },
    ]);
  });

  it('chooses Basic auth from a till username given as an SSM parameter', async () => {
    const env = {
      CAPILLARY_BASE_URL: oauthEnv.CAPILLARY_BASE_URL,
      CAPILLARY_USERNAME_PARAM: '/u',
      CAPILLARY_PASSWORD: 'pw',
    };
    const orgs = await readConfig(env, async () => 'till', readCapillaryOrgs);
    expect(orgs.get('default')?.auth).toMatchObject({ scheme: 'basic', id: 'till', secret: 'pw' });
  });

  it('names a missing half of the credentials, and a broken CAPILLARY_ORGS by the SSM parameter it came from', async () => {
    const env = { ...oauthEnv, CAPILLARY_ORGS_PARAM: '/orgs' };
    expect(await problemsOf(readConfig(env, async () => '[{"id": "jp"}]', readCapillaryOrgs))).toEqual([
      'CAPILLARY_CLIENT_SECRET (or CAPILLARY_CLIENT_SECRET_PARAM) is not set',
      'CAPILLARY_ORGS_PARAM "/orgs"[0] (id "jp"): baseUrl is missing',
      'CAPILLARY_ORGS_PARAM "/orgs"[0] (id "jp"): clientKey is missing',
      'CAPILLARY_ORGS_PARAM "/orgs"[0] (id "jp"): clientSecret is missing',
    ]);
  });
});

describe('checkChannelOrgs', () => {
  it('names each channel whose org has no credentials here', async () => {
    const org = (id: string): CapillaryOrgConfig => ({
      id,
      baseUrl: 'https://eu.api.capillarytech.com',
      auth: { scheme: 'oauth', id: 'k', secret: 's', oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN' },
      rateLimitPerMinute: 100,
    });
    const orgs = new ById([org('default'), org('jp')]);
    const channels = [
      { id: 'th', capillaryOrg: 'default' },
      { id: 'jp', capillaryOrg: 'jp' },
      { id: 'tw', capillaryOrg: 'tw-org' },
    ];
    expect(await problemsOf(readConfig({}, noSsm, (read) => checkChannelOrgs(read, channels, orgs)))).toEqual([
      'channel "tw": capillaryOrg "tw-org" is not "default" nor an id in CAPILLARY_ORGS',
    ]);
  });
});
