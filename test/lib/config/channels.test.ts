import { readWebhookConfig } from '../../../lib/config/webhook-config';
import { readWorkerConfig } from '../../../lib/config/worker-config';
import { noSsm, problemsOf } from './config-fixtures';

/** Only GetParametersByPath, answering `values` (or failing as `byPath` does). */
const ssmPath = (byPath: (path: string) => Promise<Record<string, string>>) =>
  Object.assign(async () => noSsm(), { byPath });
const QUEUE_URL = 'https://sqs.ap-northeast-1.amazonaws.com/1/q.fifo';
const BOT_TH = `U${'a'.repeat(32)}`;

const channelEntry = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  channelSecret: `secret-${id}`,
  channelAccessToken: `token-${id}`,
  capillaryLineAccountId: `account-${id}`,
  ...overrides,
});

const workerEnv = (overrides: Record<string, string | undefined> = {}) => ({
  TABLE_NAME: 'users',
  CAPILLARY_BASE_URL: 'https://apac2.api.capillarytech.com',
  CAPILLARY_CLIENT_KEY: 'key',
  CAPILLARY_CLIENT_SECRET: 'secret',
  ...overrides,
});

describe('LINE_CHANNELS', () => {
  it('gives the webhook every channel with its secrets, rotation lists included, looked up by id', async () => {
    // Prepare
    const channels = [channelEntry('th', { channelSecret: 'old, new', destination: BOT_TH }), channelEntry('tw')];
    // Act
    const config = await readWebhookConfig({ LINE_CHANNELS: JSON.stringify(channels), QUEUE_URL }, noSsm);
    // Assess
    expect(config.channels.all.map((channel) => channel.id)).toEqual(['th', 'tw']);
    expect(config.channels.get('th')).toMatchObject({
      channelSecrets: ['old', 'new'],
      destination: BOT_TH,
      capillaryOrg: 'default',
    });
    expect(config.channels.get('tw')?.channelSecrets).toEqual(['secret-tw']);
    expect(config.channels.get('jp')).toBeUndefined();
    expect(config.channels.get('__proto__')).toBeUndefined();
  });

  it("gives the worker each channel's token, Capillary account, org and LINE provider", async () => {
    const channels = [channelEntry('th'), channelEntry('jp', { capillaryOrg: 'jp-org', lineProvider: 'brand-jp' })];
    const orgs = [
      {
        id: 'jp-org',
        baseUrl: 'https://sg.api.capillarytech.com/',
        username: 'till',
        password: 'pw',
        rateLimitPerMinute: 300,
      },
    ];
    const config = await readWorkerConfig(
      workerEnv({ LINE_CHANNELS: JSON.stringify(channels), CAPILLARY_ORGS: JSON.stringify(orgs) }),
      noSsm,
    );
    expect(config.channels.get('jp')).toEqual({
      id: 'jp',
      channelSecrets: ['secret-jp'],
      channelAccessToken: 'token-jp',
      capillaryLineAccountId: 'account-jp',
      capillaryOrg: 'jp-org',
      lineProvider: 'brand-jp',
    });
    expect(config.channels.get('th')).not.toHaveProperty('lineProvider');
    expect(config.capillaryOrgs.get('jp-org')).toEqual({
      id: 'jp-org',
      baseUrl: 'https://sg.api.capillarytech.com',
      auth: { scheme: 'basic', id: 'till', secret: 'pw', oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN' },
      rateLimitPerMinute: 300,
    });
    expect(config.capillaryOrgs.all.map((org) => org.id)).toEqual(['default', 'jp-org']);
  });

  it('reads the list from the SSM SecureString LINE_CHANNELS_PARAM names, once', async () => {
    const names: string[] = [];
    const config = await readWebhookConfig(
      { LINE_CHANNELS_PARAM: '/bridge/prod/line-channels', QUEUE_URL },
      async (name) => {
        names.push(name);
        return JSON.stringify([channelEntry('th')]);
      },
    );
    expect(config.channels.get('th')?.channelSecrets).toEqual(['secret-th']);
    expect(names).toEqual(['/bridge/prod/line-channels']);
  });

  it('reads one SecureString per channel under LINE_CHANNELS_PATH, the parameter name being the id', async () => {
    // Prepare: what GetParametersByPath answers, by last name segment
    const paths: string[] = [];
    const resolver = ssmPath(async (path) => {
      paths.push(path);
      const { id: _th, ...th } = channelEntry('th');
      return { tw: JSON.stringify(channelEntry('tw')), th: JSON.stringify(th) };
    });
    // Act
    const config = await readWorkerConfig(workerEnv({ LINE_CHANNELS_PATH: '/bridge/prod/line-channels' }), resolver);
    // Assess
    expect(config.channels.all.map((channel) => [channel.id, channel.capillaryLineAccountId])).toEqual([
      ['th', 'account-th'],
      ['tw', 'account-tw'],
    ]);
    expect(paths).toEqual(['/bridge/prod/line-channels']);
  });

  it('keeps the single-channel variables as one channel "default", reading only what the function needs', async () => {
    const webhook = await readWebhookConfig(
      { LINE_CHANNEL_SECRET: 's', LINE_EXPECTED_DESTINATIONS: BOT_TH, QUEUE_URL },
      noSsm,
    );
    expect(webhook.channels.all).toEqual([
      { id: 'default', capillaryOrg: 'default', destination: BOT_TH, channelSecrets: ['s'] },
    ]);
    const worker = await readWorkerConfig(
      workerEnv({ LINE_CHANNEL_ACCESS_TOKEN: 't', CAPILLARY_LINE_ACCOUNT_ID: 'a' }),
      noSsm,
    );
    expect(worker.channels.all).toEqual([
      { id: 'default', capillaryOrg: 'default', channelAccessToken: 't', capillaryLineAccountId: 'a' },
    ]);
  });
});

describe('cold-start errors name the channel and the field', () => {
  const webhookProblems = (channels: unknown, extra: Record<string, string> = {}) =>
    problemsOf(
      readWebhookConfig(
        { LINE_CHANNELS: typeof channels === 'string' ? channels : JSON.stringify(channels), QUEUE_URL, ...extra },
        noSsm,
      ),
    );

  it('refuses the list and the single-channel variables at once', async () => {
    expect(
      await webhookProblems([channelEntry('th')], { LINE_CHANNEL_SECRET: 's', LINE_EXPECTED_DESTINATIONS: BOT_TH }),
    ).toEqual([
      'LINE_CHANNELS and LINE_CHANNEL_SECRET, LINE_EXPECTED_DESTINATIONS are both set: keep one (the single-channel variables mean one channel "default"; move it into the list)',
    ]);
    expect(
      await problemsOf(
        readWorkerConfig(
          workerEnv({ LINE_CHANNELS: JSON.stringify([channelEntry('th')]), CAPILLARY_LINE_ACCOUNT_ID: 'a' }),
          noSsm,
        ),
      ),
    ).toEqual([expect.stringMatching(/^LINE_CHANNELS and CAPILLARY_LINE_ACCOUNT_ID are both set/)]);
  });

  it('refuses two ways of listing channels at once', async () => {
    expect(await webhookProblems([channelEntry('th')], { LINE_CHANNELS_PARAM: '/x' })).toEqual([
      'LINE_CHANNELS and LINE_CHANNELS_PARAM are set together: keep one',
    ]);
    expect(await webhookProblems([channelEntry('th')], { LINE_CHANNELS_PATH: '/x' })).toEqual([
      'LINE_CHANNELS and LINE_CHANNELS_PATH are set together: keep one',
    ]);
  });

  it('names the parameter under LINE_CHANNELS_PATH that is broken, empty or misnamed', async () => {
    const read = (values: Record<string, string>) =>
      problemsOf(
        readWebhookConfig(
          { LINE_CHANNELS_PATH: '/p', QUEUE_URL },
          ssmPath(async () => values),
        ),
      );
    expect(await read({})).toEqual([
      'LINE_CHANNELS_PATH "/p" holds no parameters: put one SecureString per channel under it, named by the channel id',
    ]);
    expect(
      await read({
        th: '{"channelSecret": "s3cr3t", ',
        tw: JSON.stringify(channelEntry('jp')),
        Bad: JSON.stringify(channelEntry('th')),
      }),
    ).toEqual([
      'LINE_CHANNELS_PATH "/p" Bad: id "th" differs from the parameter\'s name: the name is the id',
      expect.stringMatching(/^LINE_CHANNELS_PATH "\/p" th is not valid JSON/),
      'LINE_CHANNELS_PATH "/p" tw: id "jp" differs from the parameter\'s name: the name is the id',
    ]);
  });

  it('reports an unreadable SSM path by setting name', async () => {
    const denied = ssmPath(async () => {
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    });
    expect(await problemsOf(readWebhookConfig({ LINE_CHANNELS_PATH: '/p', QUEUE_URL }, denied))).toEqual([
      'LINE_CHANNELS_PATH: cannot read the SSM parameters under "/p" (AccessDeniedException)',
    ]);
  });

  it('refuses a duplicate id', async () => {
    expect(await webhookProblems([channelEntry('th'), channelEntry('tw'), channelEntry('th')])).toEqual([
      'LINE_CHANNELS[2] (id "th"): id is a duplicate: each entry needs its own id',
    ]);
  });

  it('names every missing or malformed field of every channel', async () => {
    const channels = [
      { id: 'th', channelSecret: 's', capillaryLineAccountId: 7 },
      channelEntry('tw', { destination: 'Ubot', channelsecret: 'typo' }),
      channelEntry('Not URL safe!'),
      { channelSecret: 's' },
      'th',
    ];
    expect(await webhookProblems(channels)).toEqual([
      'LINE_CHANNELS[0] (id "th"): channelAccessToken is missing',
      'LINE_CHANNELS[0] (id "th"): capillaryLineAccountId must be a non-empty string',
      'LINE_CHANNELS[1] (id "tw"): channelsecret is not a known field (known: id, channelSecret, channelAccessToken, capillaryLineAccountId, destination, lineLoginChannelId, capillaryOrg, lineProvider, richMenusByTier, memberCardTexts, engagementEvents)',
      'LINE_CHANNELS[1] (id "tw"): destination must be the bot\'s user id, U followed by 32 hex digits (GET /v2/bot/info answers it as userId)',
      'LINE_CHANNELS[2]: id must match /^[a-z0-9][a-z0-9_-]{0,31}$/ (a short URL-safe name)',
      'LINE_CHANNELS[3]: id is missing',
      'LINE_CHANNELS[4] must be an object',
    ]);
  });

  it('says where malformed JSON breaks without quoting any of it (it holds secrets)', async () => {
    const problems = await webhookProblems('[{"id": "th", "channelSecret": "s3cr3t-value" "channelAccessToken": "t"}]');
    expect(problems).toEqual([
      expect.stringMatching(/^LINE_CHANNELS is not valid JSON( \(error at character \d+\))?$/),
    ]);
    expect(problems.join()).not.toContain('s3cr3t');
  });

  it.each([['{}'], ['[]'], ['"th"']])('refuses %s: not a list of channels', async (raw) => {
    expect(await webhookProblems(raw)).toEqual([
      expect.stringMatching(/^LINE_CHANNELS must be a JSON array of at least one entry/),
    ]);
  });

  it('names the SSM parameter a broken list came from', async () => {
    const problems = await problemsOf(
      readWebhookConfig({ LINE_CHANNELS_PARAM: '/bridge/prod/line-channels', QUEUE_URL }, async () =>
        JSON.stringify([{ id: 'th' }]),
      ),
    );
    expect(problems[0]).toBe('LINE_CHANNELS_PARAM "/bridge/prod/line-channels"[0] (id "th"): channelSecret is missing');
  });

  it('refuses a channel naming a Capillary org that is not configured, and a broken org', async () => {
    const channels = [channelEntry('jp', { capillaryOrg: 'jp-org' })];
    const orgs = [{ id: 'default', baseUrl: 'ftp://x', clientKey: 'k' }];
    expect(
      await problemsOf(
        readWorkerConfig(
          workerEnv({ LINE_CHANNELS: JSON.stringify(channels), CAPILLARY_ORGS: JSON.stringify(orgs) }),
          noSsm,
        ),
      ),
    ).toEqual([
      'CAPILLARY_ORGS[0] (id "default"): id "default" is the org of the CAPILLARY_* variables: name this one differently',
      'CAPILLARY_ORGS[0] (id "default"): baseUrl must be an http(s) URL',
      'CAPILLARY_ORGS[0] (id "default"): clientSecret is missing',
      'channel "jp": capillaryOrg "jp-org" is not "default" nor an id in CAPILLARY_ORGS',
    ]);
  });

  it('refuses several destinations for the single channel', async () => {
    expect(
      await problemsOf(
        readWebhookConfig(
          { LINE_CHANNEL_SECRET: 's', LINE_EXPECTED_DESTINATIONS: `${BOT_TH},U${'b'.repeat(32)}`, QUEUE_URL },
          noSsm,
        ),
      ),
    ).toEqual(['LINE_EXPECTED_DESTINATIONS names one bot per channel: for several channels use LINE_CHANNELS']);
  });
});
