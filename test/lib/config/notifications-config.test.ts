import { readNotificationsConfig } from '../../../lib/config/notifications-config';
import { noSsm } from './config-fixtures';

describe('readNotificationsConfig', () => {
  const env = { QUEUE_URL: 'https://sqs.ap-northeast-1.amazonaws.com/1/q.fifo', TABLE_NAME: 'users' };

  it('reads several tokens (a rotation), the queue, the table and the body limit (default 256 KiB)', async () => {
    const tokens = `${'a'.repeat(32)}, ${'b'.repeat(32)}`;
    expect(await readNotificationsConfig({ ...env, CAPILLARY_NOTIFICATIONS_TOKEN: tokens }, noSsm)).toEqual({
      tokens: ['a'.repeat(32), 'b'.repeat(32)],
      queueUrl: env.QUEUE_URL,
      tableName: 'users',
      maxBodyBytes: 256 * 1024,
    });
  });

  it('names each problem: no token, a short token, a body limit out of range', async () => {
    await expect(readNotificationsConfig(env, noSsm)).rejects.toThrow(
      /CAPILLARY_NOTIFICATIONS_TOKEN \(or CAPILLARY_NOTIFICATIONS_TOKEN_PARAM\) is not set/,
    );
    await expect(
      readNotificationsConfig(
        { ...env, CAPILLARY_NOTIFICATIONS_TOKEN: 'short', CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES: '10' },
        noSsm,
      ),
    ).rejects.toThrow(/every token must be at least 32 characters.*CAPILLARY_NOTIFICATIONS_MAX_BODY_BYTES/s);
  });
});
