import { readLinkApiConfig } from '../../../lib/config/link-api-config';
import { noSsm, problemsOf } from './config-fixtures';

describe('readLinkApiConfig', () => {
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

describe('readLinkApiConfig defaults and limits', () => {
  const env = {
    QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/q.fifo',
    TABLE_NAME: 'users',
    LINE_CHANNEL_ACCESS_TOKEN: 'token',
    LINK_API_TOKEN: 'a'.repeat(32),
  };

  it('applies the documented defaults', async () => {
    expect(await readLinkApiConfig(env, noSsm)).toMatchObject({
      lineApiBaseUrl: 'https://api.line.me',
      lineApiTimeoutMs: 10_000,
      accountLinkUrl: 'https://access.line.me/dialog/bot/accountLink',
      nonceTtlMs: 600_000,
      maxBodyBytes: 16 * 1024,
    });
  });

  it('lists every wrong setting together', async () => {
    const wrong = { ...env, LINE_API_TIMEOUT_MS: '45000', LINK_NONCE_TTL_SECONDS: '10', LINK_API_MAX_BODY_BYTES: '1' };
    expect(await problemsOf(readLinkApiConfig(wrong, noSsm))).toEqual([
      'LINE_API_TIMEOUT_MS must be an integer from 100 to 30000, got "45000"',
      'LINK_NONCE_TTL_SECONDS must be an integer from 60 to 3600, got "10"',
      'LINK_API_MAX_BODY_BYTES must be an integer from 256 to 262144, got "1"',
    ]);
  });
});
