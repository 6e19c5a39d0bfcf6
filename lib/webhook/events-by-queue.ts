/**
 * Which queue takes each event of a callback: the engagement events (the worker's own route, domain/event-route) go
 * to their own FIFO queue, so a flood of taps waiting for the ingest URL's limit never holds a follow back; the rest
 * stay on the events queue. Both keep the user's FIFO group: a tap and its follow are ordered by the user record's
 * claim, not by the queue.
 */
import type { WebhookConfig } from '../config/webhook-config';
import { eventFactsOf, routeOf } from '../domain/event-route';
import type { LineWebhookEvent } from '../line/callback';

export interface QueueShare {
  queueUrl: string;
  events: LineWebhookEvent[];
}

/** Each queue with the channel's events it takes, in their order; a queue that takes none is left out. */
export function eventsByQueue(
  channel: string,
  events: LineWebhookEvent[],
  { queueUrl, engagement: routing }: Pick<WebhookConfig, 'queueUrl' | 'engagement'>,
): QueueShare[] {
  const rules = routing?.rulesByChannel.get(channel) ?? [];
  if (routing === undefined || rules.length === 0) return [{ queueUrl, events }];
  const shares: Record<'events' | 'engagement', QueueShare> = {
    events: { queueUrl, events: [] },
    engagement: { queueUrl: routing.queueUrl, events: [] },
  };
  for (const event of events) {
    const route = routeOf(eventFactsOf(event), routing.chat, { rules, event }, routing.points);
    (route.kind === 'engagement' ? shares.engagement : shares.events).events.push(event);
  }
  return [shares.events, shares.engagement].filter((share) => share.events.length > 0);
}
