import { readInsightCheckConfig } from '../../../lib/config/insight-check-config';
import { noSsm, problemsOf } from './config-fixtures';

describe('readInsightCheckConfig', () => {
  it("reads the table, every channel's token and LINE's defaults", async () => {
    const config = await readInsightCheckConfig({ TABLE_NAME: 'users', LINE_CHANNEL_ACCESS_TOKEN: 'token' }, noSsm);
    expect(config.tableName).toBe('users');
    expect(config.channels.all).toEqual([{ id: 'default', capillaryOrg: 'default', channelAccessToken: 'token' }]);
    expect(config.line).toEqual({ apiBaseUrl: 'https://api.line.me', timeoutMs: 10_000 });
  });

  it('allows LINE calls of up to a minute, not more', async () => {
    const env = { TABLE_NAME: 'users', LINE_CHANNEL_ACCESS_TOKEN: 'token', LINE_API_TIMEOUT_MS: '60000' };
    expect((await readInsightCheckConfig(env, noSsm)).line.timeoutMs).toBe(60_000);
    expect(await problemsOf(readInsightCheckConfig({ ...env, LINE_API_TIMEOUT_MS: '60001' }, noSsm))).toEqual([
      'LINE_API_TIMEOUT_MS must be an integer from 100 to 60000, got "60001"',
    ]);
  });

  it('lists every missing setting together', async () => {
    expect(await problemsOf(readInsightCheckConfig({ LINE_API_BASE_URL: 'line' }, noSsm))).toEqual([
      'TABLE_NAME is not set',
      'LINE_CHANNEL_ACCESS_TOKEN (or LINE_CHANNEL_ACCESS_TOKEN_PARAM) is not set',
      'LINE_API_BASE_URL must be an http(s) URL, got "line"',
    ]);
  });
});
