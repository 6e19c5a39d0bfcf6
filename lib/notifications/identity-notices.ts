/**
 * Which Capillary notifications change who is who for the bridge, and what they say. Pure.
 *
 * - `loyaltyCustomerMerge`: the victim is merged into the survivor (both in `data.*CustomerIdentifiers.customerId`).
 * - `requestUpdated`, status APPROVED: request type CUSTOMER / base type DELETE is a PII deletion of the customer;
 *   base type MERGE is a merge request a link filed (domain/identity-rules settles its pending link), which status
 *   REJECTED fails. The request's fields sit at the envelope's top level (the PII sample) or in `data` (the
 *   transaction sample): both are read.
 * Everything else is acknowledged and counted, never applied.
 */
import { CAPILLARY_DELETE_TYPE, CAPILLARY_MERGE_TYPE, type IdentityNotice } from '../domain/identity-rules';
import { BadRequestError } from '../http/errors';
import { isRecord } from '../is-record';
import type { CapillaryNotification } from './envelope';

export type Interpretation =
  /** apply `notice` to every LINE user whose record names `customerId` (the customer → users index) */
  | { kind: 'identity'; notice: IdentityNotice; customerId: number; key: string }
  | { kind: 'ignored'; reason: 'unknown-event' | 'not-an-identity-change' };

export const IDENTITY_EVENT_NAMES = ['loyaltyCustomerMerge', 'requestUpdated'] as const;

/** A customer id as the samples write them: a number, or its digits in a string. */
function customerIdAt(notification: CapillaryNotification, value: unknown, field: string, required: true): number;
function customerIdAt(
  notification: CapillaryNotification,
  value: unknown,
  field: string,
  required: false,
): number | undefined;
function customerIdAt(
  notification: CapillaryNotification,
  value: unknown,
  field: string,
  required: boolean,
): number | undefined {
  const id = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return id;
  if (!required && value === undefined) return undefined;
  const at = `${notification.at}.${field}`;
  throw new BadRequestError('customer-id-invalid', `${at} must be a positive integer customer id`, { field: at });
}

const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});
const upper = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.trim().toUpperCase() : undefined;

export function interpret(notification: CapillaryNotification): Interpretation {
  switch (notification.name) {
    case 'loyaltyCustomerMerge':
      return merge(notification);
    case 'requestUpdated':
      return requestUpdate(notification);
    default:
      return { kind: 'ignored', reason: 'unknown-event' };
  }
}

function merge(notification: CapillaryNotification): Interpretation {
  const { data } = notification;
  const survivor = customerIdAt(
    notification,
    record(data.survivorCustomerIdentifiers).customerId,
    'data.survivorCustomerIdentifiers.customerId',
    true,
  );
  const victim = customerIdAt(
    notification,
    record(data.victimCustomerIdentifiers).customerId,
    'data.victimCustomerIdentifiers.customerId',
    true,
  );
  if (survivor === victim) return { kind: 'ignored', reason: 'not-an-identity-change' };
  const key = notificationKey(notification, [survivor, victim]);
  return { kind: 'identity', notice: { type: CAPILLARY_MERGE_TYPE, survivor, victim }, customerId: victim, key };
}

function requestUpdate(notification: CapillaryNotification): Interpretation {
  const { fields, data } = notification;
  const field = (name: string): unknown => fields[name] ?? data[name];
  const status = upper(field('status'));
  const baseType = upper(field('requestBaseType'));
  const isDeletion = upper(field('requestType')) === 'CUSTOMER' && baseType === 'DELETE' && status === 'APPROVED';
  const isMerge = baseType === 'MERGE' && (status === 'APPROVED' || status === 'REJECTED');
  if (!isDeletion && !isMerge) return { kind: 'ignored', reason: 'not-an-identity-change' };
  const [value, at] =
    fields.customerId !== undefined
      ? [fields.customerId, 'customerId']
      : data.customerId !== undefined
        ? [data.customerId, 'data.customerId']
        : [record(data.customerIdentifiers).customerId, 'data.customerIdentifiers.customerId'];
  const customerId = customerIdAt(notification, value, at, true);
  const key = notificationKey(notification, [customerId]);
  if (isDeletion) return { kind: 'identity', notice: { type: CAPILLARY_DELETE_TYPE, customerId }, customerId, key };
  const requestId = field('requestTrackingId') ?? field('requestId');
  const mergeRequestId = typeof requestId === 'string' || typeof requestId === 'number' ? String(requestId) : undefined;
  const notice: IdentityNotice = {
    type: CAPILLARY_MERGE_TYPE,
    customerId,
    ...(mergeRequestId ? { mergeRequestId } : {}),
    ...(status === 'REJECTED' ? { rejected: true as const } : {}),
  };
  return { kind: 'identity', notice, customerId, key };
}

/**
 * What makes two deliveries the same notification: Capillary's `eventId`; where a notification has none (the
 * documented loyaltyCustomerMerge), its name, its reference (or time) and the ids it names.
 */
export function notificationKey(notification: CapillaryNotification, customerIds: number[]): string {
  if (notification.eventId !== undefined) return `event:${notification.eventId}`;
  const reference = notification.refId ?? String(notification.createdAt ?? '');
  return `derived:${notification.name}:${reference}:${customerIds.join(',')}`;
}
