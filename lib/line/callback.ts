import type { webhook } from '@line/bot-sdk';

import { isRecord } from '../is-record';
import { InvalidCallbackError } from './errors';

/** A LINE callback body after the shape checks the SDK leaves to us. Events keep every field LINE sent. */
export interface LineCallback {
  destination: string;
  events: LineWebhookEvent[];
}

/** Only the fields the bridge relies on are typed; anything else LINE adds is passed through untouched. */
export type LineWebhookEvent = Pick<webhook.Event, 'type' | 'timestamp' | 'webhookEventId'> & {
  source?: { type: string; userId?: string; groupId?: string; roomId?: string };
  follow?: { isUnblocked?: boolean };
  [field: string]: unknown;
};

const MAX_ID_LENGTH = 128; // SQS limit for MessageGroupId / MessageDeduplicationId
const SQS_ID_PATTERN = /^[\x21-\x7e]+$/; // printable ASCII, as SQS requires for those ids
const SOURCE_IDS = ['userId', 'groupId', 'roomId'] as const;

const isSqsId = (value: unknown): boolean =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && SQS_ID_PATTERN.test(value);

const invalidId = (path: string) =>
  new InvalidCallbackError(
    `${path} must be a non-empty printable ASCII string of at most ${MAX_ID_LENGTH} characters`,
    path,
  );

/** Paths are built only for an error: a valid event costs its checks and nothing else. */
const at = (index: number) => `events[${index}]`;

function checkEvent(event: unknown, index: number): asserts event is LineWebhookEvent {
  if (!isRecord(event)) throw new InvalidCallbackError(`${at(index)} must be an object`, at(index));
  if (typeof event.type !== 'string' || event.type.length === 0) {
    throw new InvalidCallbackError(`${at(index)}.type must be a non-empty string`, `${at(index)}.type`);
  }
  if (!isSqsId(event.webhookEventId)) throw invalidId(`${at(index)}.webhookEventId`);
  if (typeof event.timestamp !== 'number' || !Number.isSafeInteger(event.timestamp) || event.timestamp < 0) {
    throw new InvalidCallbackError(`${at(index)}.timestamp must be epoch milliseconds`, `${at(index)}.timestamp`);
  }
  const source = event.source;
  if (source === undefined) return;
  if (!isRecord(source) || typeof source.type !== 'string') {
    throw new InvalidCallbackError(`${at(index)}.source must be an object with a type`, `${at(index)}.source`);
  }
  for (const key of SOURCE_IDS) {
    if (source[key] !== undefined && !isSqsId(source[key])) throw invalidId(`${at(index)}.source.${key}`);
  }
}

/** Parses the raw body (already signature-checked) into a LINE callback, or says precisely what is wrong. */
export function parseCallback(raw: Buffer): LineCallback {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidCallbackError('body is not valid JSON', '$');
  }
  if (!isRecord(body)) throw new InvalidCallbackError('body must be a JSON object', '$');
  if (!isSqsId(body.destination)) throw invalidId('destination');
  const events: unknown = body.events;
  if (!Array.isArray(events)) throw new InvalidCallbackError('events must be an array', 'events');
  for (let index = 0; index < events.length; index += 1) checkEvent(events[index], index);
  return body as unknown as LineCallback;
}
