/**
 * Events the worker itself queues for a LINE user of a channel (a link's sibling moves), each into that user's
 * FIFO group of that channel's bot, deduplicated by its event id: the same group and rule as the webhook's.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';

import type { LineWebhookEvent } from '../line/callback';
import { enqueueEvents } from './event-queue';

export interface LineEventQueue {
  /** Resolves when every event is queued; throws EnqueueError otherwise (the caller's event is retried). */
  send(channel: string, destination: string, events: LineWebhookEvent[]): Promise<void>;
}

export class SqsLineEventQueue implements LineEventQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(channel: string, destination: string, events: LineWebhookEvent[]): Promise<void> {
    await enqueueEvents(this.sqs, this.queueUrl, channel, destination, events);
  }
}
