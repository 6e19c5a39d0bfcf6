import type { LineWebhookEvent } from '../line/callback';
import { InvalidQueuedEventError } from './errors';

/** One SQS message: the event exactly as LINE sent it, plus the bot it was sent to. */
export interface QueuedLineEvent {
  destination: string;
  event: LineWebhookEvent;
}

/**
 * FIFO order is per user and per channel: two channels never share a group, so one user's events
 * are applied in order while other users proceed in parallel.
 */
export function messageGroupId(destination: string, event: LineWebhookEvent): string {
  const source = event.source;
  const subject = source?.userId ?? source?.groupId ?? source?.roomId ?? 'no-source';
  return `${destination}:${subject}`;
}

const NON_ASCII = /[\u007f-\uffff]/g;
const escapeChar = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON with every non-ASCII character \u-escaped: the same JSON value, but SQS rejects some
 * characters LINE users can type (U+FFFE, U+FFFF), and a rejected entry would make the webhook answer
 * 500 for that body forever.
 */
export function serializeQueuedEvent(message: QueuedLineEvent): string {
  return JSON.stringify(message).replace(NON_ASCII, escapeChar);
}

export function parseQueuedEvent(body: string): QueuedLineEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidQueuedEventError('body is not JSON', { cause: error });
  }
  const candidate = parsed as Partial<QueuedLineEvent> | null;
  const event = candidate?.event;
  if (typeof candidate?.destination !== 'string' || typeof event !== 'object' || event === null) {
    throw new InvalidQueuedEventError('expected {destination, event}');
  }
  if (typeof event.type !== 'string' || typeof event.webhookEventId !== 'string' || typeof event.timestamp !== 'number') {
    throw new InvalidQueuedEventError('event lacks type, webhookEventId or timestamp');
  }
  return candidate as QueuedLineEvent;
}
