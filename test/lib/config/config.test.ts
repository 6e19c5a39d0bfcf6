import { readLinkApiConfig, readWebhookConfig, readWorkerConfig } from '../../../lib/config/config';
import { ConfigError } from '../../../lib/config/errors';

const noSsm = async () => {
  throw new Error('SSM should not be called');
};

const workerEnv = (overrides: Record<string, string | undefined> = {}) => ({
  TABLE_NAME: 'users',
  LINE_CHANNEL_ACCESS_TOKEN: 'token',
  CAPILLARY_BASE_URL: 'https://apac2.api.capillarytech.com/',
  CAPILLARY_LINE_ACCOUNT_ID: '2001914141242',
  CAPILLARY_CLIENT_KEY: 'key',
  CAPILLARY_CLIENT_SECRET: 'secret',
  ...overrides,
});

describe('readWebhookConfig', () => {
  it('accepts several channel secrets for a rotation', async () => {
    const config = await readWebhookConfig(
      { LINE_CHANNEL_SECRET: 'old, new', QUEUE_URL: 'http://127.0.0.1:4566/000000000000/q.fifo' },
      noSsm,
    );
    expect(config.channels.all).toEqual([{ id: 'default', capillaryOrg: 'default', channelSecrets: ['old', 'new'] }]);
    expect(config.maxBodyBytes).toBe(1024 * 1024);
  });

  it('names every missing setting at once', async () => {
    await expect(readWebhookConfig({}, noSsm)).rejects.toThrow(
      /LINE_CHANNEL_SECRET \(or LINE_CHANNEL_SECRET_PARAM\) is not set; QUEUE_URL is not set/,
    );
  });

  it('reads a secret from the SSM parameter it names', async () => {
    const names: string[] = [];
    const config = await readWebhookConfig(
      {
        LINE_CHANNEL_SECRET_PARAM: '/bridge/prod/line-channel-secret',
        QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/q.fifo',
      },
      async (name) => {
        names.push(name);
        return 'from-ssm';
      },
    );
    expect(config.channels.get('default')?.channelSecrets).toEqual(['from-ssm']);
    expect(names).toEqual(['/bridge/prod/line-channel-secret']);
  });

  it('reports an unreadable SSM parameter by setting name, without its value', async () => {
    const failure = readWebhookConfig({ LINE_CHANNEL_SECRET_PARAM: '/x', QUEUE_URL: 'https://q' }, async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    });
    await expect(failure).rejects.toThrow(
      'LINE_CHANNEL_SECRET_PARAM: cannot read SSM parameter "/x" (AccessDeniedException)',
    );
    await expect(failure).rejects.toMatchObject({ name: 'ConfigError', cause: { name: 'AccessDeniedException' } });
  });
});

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

  it('reads the link API: several tokens, and each channel with its bot (destination) and LINE Login channel', async () => {
    const base = {
      QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/q.fifo',
      TABLE_NAME: 'users',
      LINE_CHANNEL_ACCESS_TOKEN: 'token',
      LINE_LOGIN_CHANNEL_ID: '2000000001',
    };
    const tokens = `${'a'.repeat(32)},${'b'.repeat(32)}`;
    const config = await readLinkApiConfig(
      { ...base, LINK_API_TOKEN: tokens, LINE_EXPECTED_DESTINATIONS: `U${'1'.repeat(32)}` },
      noSsm,
    );
    expect(config.tokens).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(config.channels.all).toEqual([
      expect.objectContaining({
        id: 'default',
        destination: `U${'1'.repeat(32)}`,
        lineLoginChannelId: '2000000001',
        channelAccessToken: 'token',
      }),
    ]);
    await expect(readLinkApiConfig({ ...base, LINK_API_TOKEN: 'short' }, noSsm)).rejects.toThrow(
      /LINK_API_TOKEN: every token must be at least 32 characters/,
    );
    await expect(readLinkApiConfig({ QUEUE_URL: base.QUEUE_URL }, noSsm)).rejects.toThrow(
      /LINK_API_TOKEN \(or LINK_API_TOKEN_PARAM\) is not set; TABLE_NAME is not set; LINE_CHANNEL_ACCESS_TOKEN \(or LINE_CHANNEL_ACCESS_TOKEN_PARAM\) is not set/,
    );
  });
});
