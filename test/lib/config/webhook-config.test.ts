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

describe('readWebhookConfig engagement queue', () => {
  const base = { LINE_CHANNEL_SECRET: 's', QUEUE_URL: 'https://sqs.example/1/events.fifo' };
  const rules = '[{"type": "postback", "data": "action=checkin*", "event": "line_checkin"}]';

  it('routes nothing apart without ENGAGEMENT_QUEUE_URL (one queue, as before)', async () => {
    const config = await readWebhookConfig({ ...base, LINE_ENGAGEMENT_EVENTS: rules }, noSsm);
    expect(config.engagement).toBeUndefined();
  });

  it("reads the queue, each channel's rules and the chat triggers the worker routes by", async () => {
    const env = {
      ...base,
      ENGAGEMENT_QUEUE_URL: 'https://sqs.example/1/engagement.fifo',
      LINE_ENGAGEMENT_EVENTS: rules,
      UNLINK_POSTBACK_DATA: 'do=unlink',
      POINTS_KEYWORD: 'points',
    };
    const { engagement } = await readWebhookConfig(env, noSsm);
    expect(engagement).toMatchObject({
      queueUrl: 'https://sqs.example/1/engagement.fifo',
      chat: { unlinkPostbackData: 'do=unlink', linkPostbackData: 'action=link' },
      points: { pointsPostbackData: 'action=points', pointsKeyword: 'points' },
    });
    expect(engagement?.rulesByChannel.get('default')).toEqual([
      { type: 'postback', data: 'action=checkin*', event: 'line_checkin', attributes: {} },
    ]);
  });

  it('fails the cold start on a malformed rule, naming it as the worker does, with or without the queue', async () => {
    const bad = '[{"type": "postback", "event": "line_tap", "attributes": {"who": "source.userId"}}]';
    const [withQueue, without] = await Promise.all([
      problemsOf(
        readWebhookConfig(
          { ...base, ENGAGEMENT_QUEUE_URL: 'https://q/engagement.fifo', LINE_ENGAGEMENT_EVENTS: bad },
          noSsm,
        ),
      ),
      problemsOf(readWebhookConfig({ ...base, LINE_ENGAGEMENT_EVENTS: bad }, noSsm)),
    ]);
    expect(withQueue).toEqual([
      expect.stringMatching(/^LINE_ENGAGEMENT_EVENTS\[0\] \(event "line_tap"\).*source\.userId/),
    ]);
    expect(without).toEqual(withQueue);
  });

  it('refuses an engagement queue that is not a URL', async () => {
    expect(await problemsOf(readWebhookConfig({ ...base, ENGAGEMENT_QUEUE_URL: 'sqs' }, noSsm))).toEqual([
      'ENGAGEMENT_QUEUE_URL must be an http(s) URL, got "sqs"',
    ]);
  });
});
