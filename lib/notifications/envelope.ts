/**
 * Capillary's event notifications as they arrive (capillary-api docs: "Event notifications"; the samples show three
 * envelopes): A flat `{eventName, eventId, orgId, refId, createdAt, data}`; B wrapped `{eventId, eventType:
 * "<orgId>_<name>" or "<name>", timeStamp, attributes: {eventName, createdAt, data, refId, orgId}}`; C an API
 * response around A, `{data: {eventName, …}, errors, warnings}`. One object per POST is documented; an array of
 * them is accepted too. Pure: a body in, the notifications or a 400 naming the field out.
 */
import { BadRequestError } from '../http/errors';
import { isRecord } from '../is-record';

export interface CapillaryNotification {
  /** the event's name without an `<orgId>_` prefix, e.g. `loyaltyCustomerMerge` */
  name: string;
  eventId?: string;
  refId?: string;
  /** epoch ms when Capillary made the change */
  createdAt?: number;
  /** the envelope's own fields (A: top level; B: `attributes`), where some events put theirs (a PII request update) */
  fields: Record<string, unknown>;
  data: Record<string, unknown>;
  /** where the notification is in the body, for a 400's field: `$`, `$[2]`, `$.data` */
  at: string;
}

/** Longer names are no Capillary event: refused before they reach a log line. */
const MAX_NAME_LENGTH = 128;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : typeof value === 'number'
      ? String(value)
      : undefined;
const time = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : undefined;

/** `150698_customerAdded` → `customerAdded` (shape B's eventType names the org first). */
export const normalisedEventName = (name: string): string => /^\d+_(.+)$/.exec(name)?.[1] ?? name;

/** The notifications a parsed JSON body holds, or a 400 naming the first field at fault. */
export function notificationsOf(body: unknown): CapillaryNotification[] {
  if (Array.isArray(body)) {
    if (body.length === 0)
      throw new BadRequestError('no-notification', 'body must hold a notification', { field: '$' });
    return body.map((entry, index) => notificationOf(entry, `$[${index}]`));
  }
  return [notificationOf(body, '$')];
}

function notificationOf(entry: unknown, at: string): CapillaryNotification {
  if (!isRecord(entry))
    throw new BadRequestError('notification-not-object', `${at} must be a JSON object`, { field: at });
  if (entry.eventName !== undefined) return flat(entry, at);
  if (isRecord(entry.attributes) || entry.eventType !== undefined) return wrapped(entry, at);
  if (isRecord(entry.data) && entry.data.eventName !== undefined) return flat(entry.data, `${at}.data`);
  throw new BadRequestError('event-name-missing', `${at}.eventName is missing`, { field: `${at}.eventName` });
}

function nameAt(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH)
    throw new BadRequestError(
      'event-name-invalid',
      `${field} must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
      {
        field,
      },
    );
  return normalisedEventName(value.trim());
}

/** Shape A (and C's inner object). */
function flat(entry: Record<string, unknown>, at: string): CapillaryNotification {
  return {
    name: nameAt(entry.eventName, `${at}.eventName`),
    eventId: text(entry.eventId),
    refId: text(entry.refId),
    createdAt: time(entry.createdAt),
    fields: entry,
    data: isRecord(entry.data) ? entry.data : {},
    at,
  };
}

/** Shape B: the event lives in `attributes`; `eventType` names it when `attributes.eventName` does not. */
function wrapped(entry: Record<string, unknown>, at: string): CapillaryNotification {
  const attributes = isRecord(entry.attributes) ? entry.attributes : {};
  const name =
    attributes.eventName !== undefined
      ? nameAt(attributes.eventName, `${at}.attributes.eventName`)
      : nameAt(entry.eventType, `${at}.eventType`);
  return {
    name,
    eventId: text(entry.eventId) ?? text(attributes.eventId),
    refId: text(attributes.refId),
    createdAt: time(attributes.createdAt) ?? time(entry.timeStamp),
    fields: attributes,
    data: isRecord(attributes.data) ? attributes.data : {},
    at: `${at}.attributes`,
  };
}
