/**
 * The webhook's configuration: the channels' secrets it checks signatures with, the queue it hands events to, and
 * what sends a channel's engagement events to a queue of their own.
 */
import type { EngagementRule } from '../domain/engagement-rules';
import type { ChatLinkSettings } from '../domain/link-rules';
import type { PointsTriggers } from '../domain/points-trigger';
import { readChannels, type ById, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { readEngagementRules } from './engagement-config';
import { readConfig, type Env, type SecretResolver } from './env-reader';
import { readChatLinkSettings } from './link-config';
import { readPointsTriggers } from './loyalty-config';
import { readEngagementQueueUrl, readEventsQueueUrl } from './resources';

export type WebhookChannel = ChannelOf<'channelSecrets'>;

/** The worker's routing inputs (domain/event-route), so both decide alike which events are engagement events. */
export interface EngagementRouting {
  /** ENGAGEMENT_QUEUE_URL */
  queueUrl: string;
  rulesByChannel: ReadonlyMap<string, readonly EngagementRule[]>;
  chat: ChatLinkSettings;
  points: PointsTriggers;
}

export interface WebhookConfig {
  channels: ById<WebhookChannel>;
  queueUrl: string;
  maxBodyBytes: number;
  /** undefined without ENGAGEMENT_QUEUE_URL: every event goes to queueUrl */
  engagement?: EngagementRouting;
}

export async function readWebhookConfig(env: Env, resolveSecret: SecretResolver): Promise<WebhookConfig> {
  return readConfig(env, resolveSecret, async (read) => {
    const channels = await readChannels(read, ['channelSecrets']);
    // Read (and checked) as the worker reads them: a malformed rule fails both cold starts alike.
    const rulesByChannel = readEngagementRules(read, channels.all);
    const engagementQueueUrl = readEngagementQueueUrl(read);
    return {
      channels,
      queueUrl: readEventsQueueUrl(read),
      maxBodyBytes: read.integer('WEBHOOK_MAX_BODY_BYTES', DEFAULTS.WEBHOOK_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
      ...(engagementQueueUrl === undefined
        ? {}
        : {
            engagement: {
              queueUrl: engagementQueueUrl,
              rulesByChannel,
              chat: readChatLinkSettings(read),
              points: readPointsTriggers(read),
            },
          }),
    };
  });
}
