import { ConfigError } from '../../../lib/config/errors';
import { readWorkerConfig } from '../../../lib/config/worker-config';
import { noSsm, problemsOf, workerEnv } from './config-fixtures';

describe('readWorkerConfig', () => {
  it('applies the documented defaults', async () => {
    const config = await readWorkerConfig(workerEnv(), noSsm);
    expect(config.line.apiBaseUrl).toBe('https://api.line.me');
    expect(config.capillary).toMatchObject({
      subscriptionChannel: 'LINE',
      registrationMode: 'instore+line',
      orgUnitId: -1,
      externalIdPrefix: 'line_',
      subscribeOnRegister: true,
      registerProfilesTogether: false,
    });
    expect(config.capillaryOrgs.all).toEqual([
      {
        id: 'default',
        baseUrl: 'https://apac2.api.capillarytech.com',
        auth: { scheme: 'oauth', id: 'key', secret: 'secret', oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN' },
        rateLimitPerMinute: 100,
      },
    ]);
    expect(config.channels.all).toEqual([
      { id: 'default', capillaryOrg: 'default', channelAccessToken: 'token', capillaryLineAccountId: '2001914141242' },
    ]);
  });

  it('chooses Basic auth when a till username is given', async () => {
    const config = await readWorkerConfig(
      workerEnv({
        CAPILLARY_CLIENT_KEY: undefined,
        CAPILLARY_CLIENT_SECRET: undefined,
        CAPILLARY_USERNAME: 'till',
        CAPILLARY_PASSWORD: 'pw',
      }),
      noSsm,
    );
    expect(config.capillaryOrgs.get('default')?.auth).toMatchObject({ scheme: 'basic', id: 'till', secret: 'pw' });
  });

  it('omits orgUnitId when told to', async () => {
    expect(
      (await readWorkerConfig(workerEnv({ CAPILLARY_ORG_UNIT_ID: 'omit' }), noSsm)).capillary.orgUnitId,
    ).toBeUndefined();
  });

  it.each([
    [{ CAPILLARY_REGISTRATION_MODE: 'both' }, 'CAPILLARY_REGISTRATION_MODE must be one of instore+line, line-only'],
    [{ CAPILLARY_BASE_URL: 'apac2' }, 'CAPILLARY_BASE_URL must be an http(s) URL'],
    [{ CAPILLARY_ORG_UNIT_ID: 'x' }, 'CAPILLARY_ORG_UNIT_ID must be an integer or "omit"'],
    [{ CLAIM_TTL_SECONDS: '1' }, 'CLAIM_TTL_SECONDS must be an integer from 5 to 3600'],
    [
      { CAPILLARY_REGISTER_PROFILES_TOGETHER: 'yes' },
      'CAPILLARY_REGISTER_PROFILES_TOGETHER must be one of true, false, got "yes"',
    ],
    [
      { CAPILLARY_CLIENT_KEY: undefined, CAPILLARY_CLIENT_SECRET: undefined },
      'set CAPILLARY_CLIENT_KEY + CAPILLARY_CLIENT_SECRET (OAuth) or CAPILLARY_USERNAME + CAPILLARY_PASSWORD (Basic)',
    ],
    [{ TABLE_NAME: undefined }, 'TABLE_NAME is not set'],
  ])('rejects %j naming the setting', async (overrides, message) => {
    const result = readWorkerConfig(workerEnv(overrides), noSsm);
    await expect(result).rejects.toBeInstanceOf(ConfigError);
    await expect(readWorkerConfig(workerEnv(overrides), noSsm)).rejects.toThrow(message);
  });
});

describe('linking settings', () => {
  it('defaults the worker to the documented recipe: add-profile, detach, action=link, no keyword, link page off', async () => {
    const { link } = await readWorkerConfig(workerEnv(), noSsm);
    expect(link).toEqual({
      chat: { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: undefined },
      linkPageUrl: undefined,
      attachMethod: 'add-profile',
      mergeAutoApprove: false,
      anonymousCustomer: 'detach',
      replyTokenMaxAgeMs: 50_000,
      lineApiTimeoutMs: 10_000,
    });
  });

  it('names each wrong linking setting', async () => {
    await expect(
      readWorkerConfig(
        workerEnv({
          CAPILLARY_LINK_METHOD: 'upsert',
          CAPILLARY_LINK_ANONYMOUS: 'delete',
          LINK_PAGE_URL: 'brand.example/{linkToken}',
          CAPILLARY_REGISTRATION_MODE: 'later',
        }),
        noSsm,
      ),
    ).rejects.toThrow(
      /CAPILLARY_REGISTRATION_MODE must be one of instore\+line, line-only, on-link.*CAPILLARY_LINK_METHOD must be one of add-profile, change-identifier.*CAPILLARY_LINK_ANONYMOUS must be one of detach, merge-request, keep/,
    );
    await expect(readWorkerConfig(workerEnv({ LINK_PAGE_URL: 'brand.example/{linkToken}' }), noSsm)).rejects.toThrow(
      /LINK_PAGE_URL must be an http\(s\) URL/,
    );
  });
});

describe('readWorkerConfig problems', () => {
  it('lists the problems of every section together: orgs, channels, table, LINE, registration, linking', async () => {
    const env = workerEnv({
      CAPILLARY_RATE_LIMIT_RPM: '0',
      LINE_CHANNEL_ACCESS_TOKEN: undefined,
      TABLE_NAME: undefined,
      LINE_PROFILE_TIMEOUT_MS: '50',
      CAPILLARY_ORG_UNIT_ID: 'x',
      CAPILLARY_LINK_METHOD: 'upsert',
    });
    expect(await problemsOf(readWorkerConfig(env, noSsm))).toEqual([
      'CAPILLARY_RATE_LIMIT_RPM must be an integer from 1 to 1000000, got "0"',
      'LINE_CHANNEL_ACCESS_TOKEN (or LINE_CHANNEL_ACCESS_TOKEN_PARAM) is not set',
      'TABLE_NAME is not set',
      'LINE_PROFILE_TIMEOUT_MS must be an integer from 100 to 30000, got "50"',
      'CAPILLARY_ORG_UNIT_ID must be an integer or "omit", got "x"',
      'CAPILLARY_LINK_METHOD must be one of add-profile, change-identifier, got "upsert"',
    ]);
  });
});
