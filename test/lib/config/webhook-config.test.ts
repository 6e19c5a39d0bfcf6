import { readWebhookConfig } from '../../../lib/config/webhook-config';
import { noSsm, problemsOf } from './config-fixtures';

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

describe('readWebhookConfig problems', () => {
  it('lists a wrong queue and a wrong body limit together', async () => {
    const env = { LINE_CHANNEL_SECRET: 's', QUEUE_URL: 'sqs', WEBHOOK_MAX_BODY_BYTES: '10' };
    expect(await problemsOf(readWebhookConfig(env, noSsm))).toEqual([
      'QUEUE_URL must be an http(s) URL, got "sqs"',
      'WEBHOOK_MAX_BODY_BYTES must be an integer from 1024 to 6291456, got "10"',
    ]);
  });
});
