/**
 * Events the bridge itself puts into the ordered pipeline: a follower the backfill hands over (a live
 * event for them was in flight), a record Capillary kept rejecting (into the DLQ, with the reason), and
 * drift repairs. Each is a LINE-shaped follow or unfollow (or the drift check's reattach, domain/identity-rules) in the
 * user's own FIFO group, so it is applied by the worker under the same per-user record rule and can never overtake a
 * live event.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';

import type { BRIDGE_REATTACH_TYPE, ReattachRequest } from '../domain/identity-rules';
import type { LineEventFacts } from '../domain/sync-rules';
import type { LineWebhookEvent } from '../line/callback';
import { enqueueBatches, toBatches, toEntries } from './event-queue';

export interface SyntheticEvent {
  facts: LineEventFacts & { type: 'follow' | 'unfollow' | typeof BRIDGE_REATTACH_TYPE; userId: string };
  /** what a reattach repair puts back where (its type's field) */
  reattach?: ReattachRequest;
  /** why the bridge made it up: shown in the DLQ (message attribute `reason`) and in the logs */
  reason: string;
}

/** A LINE webhook event the worker accepts; `mode: active` as LINE sends it, and marked as synthetic. */
export function toLineEvent({ facts, reattach }: SyntheticEvent): LineWebhookEvent {
  return {
    type: facts.type,
    webhookEventId: facts.webhookEventId,
    timestamp: facts.timestamp,
    mode: 'active',
    source: { type: 'user', userId: facts.userId },
    deliveryContext: { isRedelivery: false },
    ...(facts.type === 'follow' ? { follow: { isUnblocked: false } } : {}),
    ...(reattach === undefined ? {} : { reattach }),
    synthetic: true,
  } as LineWebhookEvent; // the bridge's own type (a reattach) is none of LINE's, as the link API's are not
}

export class SyntheticEventSender {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly channel: string,
    private readonly destination: string,
  ) {}

  /** Resolves when every event is queued; throws EnqueueError otherwise (nothing is lost: the caller retries). */
  async send(events: SyntheticEvent[]): Promise<void> {
    if (events.length === 0) return;
    const entries = toEntries(this.channel, this.destination, events.map(toLineEvent)).map((sized, index) => ({
      ...sized,
      entry: {
        ...sized.entry,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: (events[index] as SyntheticEvent).reason.slice(0, 1000) },
        },
      },
    }));
    await enqueueBatches(this.sqs, this.queueUrl, toBatches(entries));
  }
}
