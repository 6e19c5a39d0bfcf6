import { createHash } from 'node:crypto';

import { DEFAULT_CHANNEL_ID } from '../config/channels';
import type { LineWebhookEvent } from '../line/callback';
import { InvalidQueuedEventError } from './errors';

/** One SQS message: the event exactly as LINE sent it, the channel whose webhook took it, and the bot it was sent to. */
export interface QueuedLineEvent {
  /** the id of the channel (LINE_CHANNELS) whose secret verified it: the worker uses that channel's token and Capillary account */
  channel: string;
  destination: string;
  event: LineWebhookEvent;
}

/** What SQS accepts as a MessageGroupId: 1–128 printable ASCII characters. */
const MAX_GROUP_ID_LENGTH = 128;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * FIFO order is per user and per bot (`destination`): two channels never share a group, even when they
 * see the same user id (channels of one provider do), so one user's events are applied in order while
 * other users proceed in parallel. Everything that queues for a user (webhook, link API, Capillary's
 * notifications, the backfill) uses this one function, so they all land in the same group.
 */
export function messageGroupId(destination: string, event: LineWebhookEvent): string {
  const source = event.source;
  const subject = source?.userId ?? source?.groupId ?? source?.roomId ?? 'no-source';
  const groupId = `${destination}:${subject}`;
  // SQS takes at most 128 printable ASCII characters; a longer or odd id would be refused on every delivery. The parts
  // are tested, not the joined id: a regex first copies a joined string into one piece (about 1.5 µs a webhook event).
  const accepted =
    groupId.length <= MAX_GROUP_ID_LENGTH && PRINTABLE_ASCII.test(destination) && PRINTABLE_ASCII.test(subject);
  return accepted ? groupId : `sha256:${createHash('sha256').update(groupId).digest('base64url')}`;
}

const NON_ASCII = /[\u007f-\uffff]/g;
const escapeChar = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * JSON with every non-ASCII character \u-escaped: the same JSON value, but SQS rejects some
 * characters LINE users can type (U+FFFE, U+FFFF), and a rejected entry would make the webhook answer
 * 500 for that body forever.
 */
export function serializeQueuedEvent(message: QueuedLineEvent): string {
  const json = JSON.stringify(message);
  // As many UTF-8 bytes as characters: nothing above U+007F, and a native scan is cheaper than the regex's.
  if (Buffer.byteLength(json, 'utf8') === json.length && !json.includes('\u007f')) return json;
  return json.replace(NON_ASCII, escapeChar);
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
    throw new InvalidQueuedEventError('expected {channel, destination, event}');
  }
  if (candidate.channel !== undefined && typeof candidate.channel !== 'string')
    throw new InvalidQueuedEventError('channel must be a string');
  if (
    typeof event.type !== 'string' ||
    typeof event.webhookEventId !== 'string' ||
    typeof event.timestamp !== 'number'
  ) {
    throw new InvalidQueuedEventError('event lacks type, webhookEventId or timestamp');
  }
  // Messages queued before channels existed (still queued, or in the DLQ for a redrive) came from the one channel.
  return { ...(candidate as QueuedLineEvent), channel: candidate.channel ?? DEFAULT_CHANNEL_ID };
}
