/** The webhook's configuration: the channels' secrets it checks signatures with, and the queue it hands events to. */
import { readChannels, type ById, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { readConfig, type Env, type SecretResolver } from './env-reader';
import { readEventsQueueUrl } from './resources';

export type WebhookChannel = ChannelOf<'channelSecrets'>;

export interface WebhookConfig {
  channels: ById<WebhookChannel>;
  queueUrl: string;
  maxBodyBytes: number;
}

export async function readWebhookConfig(env: Env, resolveSecret: SecretResolver): Promise<WebhookConfig> {
  return readConfig(env, resolveSecret, async (read) => ({
    channels: await readChannels(read, ['channelSecrets']),
    queueUrl: readEventsQueueUrl(read),
    maxBodyBytes: read.integer('WEBHOOK_MAX_BODY_BYTES', DEFAULTS.WEBHOOK_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
  }));
}
