/**
 * Each handler names the event it takes. An invocation with another shape (say `sls invoke local -f worker` with an
 * API Gateway sample) then fails in one line naming the event to pass, instead of deep inside the function.
 */
import { isRecord } from '../is-record';
import { EventShapeError } from './errors';

/** `http`: an API Gateway HTTP API (payload 2.0) request; `sqs`: a batch from an SQS queue; `schedule`: EventBridge. */
export type EventKind = 'http' | 'sqs' | 'schedule';

const isHttpEvent = (event: unknown): boolean =>
  isRecord(event) && isRecord(event.requestContext) && isRecord(event.requestContext.http);
const isSqsEvent = (event: unknown): boolean =>
  isRecord(event) &&
  Array.isArray(event.Records) &&
  event.Records.every((record) => isRecord(record) && record.eventSource === 'aws:sqs');
const isLineCallback = (event: unknown): boolean => isRecord(event) && Array.isArray(event.events);

/** What was passed instead, by its shape only (never a value from it). */
function describe(event: unknown): string {
  if (isHttpEvent(event)) return 'an API Gateway HTTP API event';
  if (isSqsEvent(event)) return 'an SQS event';
  if (isLineCallback(event)) return 'a bare LINE webhook body (not wrapped in an HTTP API event)';
  if (isRecord(event)) return `an object with ${Object.keys(event).slice(0, 5).join(', ') || 'no fields'}`;
  return event === undefined || event === '' ? 'no event' : `a ${Array.isArray(event) ? 'list' : typeof event}`;
}

/** What each kind looks like, and a sample of it to pass (events/ in this repository). */
const EXPECTED: Record<EventKind, { shape: string; fix: string }> = {
  http: {
    shape: 'an API Gateway HTTP API (payload 2.0) event',
    fix: 'pass one such as events/apigw/02-follow.json (the LINE body wrapped as API Gateway sends it)',
  },
  sqs: {
    shape: 'an SQS event (Records with eventSource aws:sqs)',
    fix: 'pass one such as events/sqs/02-follow.json; an HTTP API event goes to the webhook',
  },
  schedule: { shape: 'a scheduled (EventBridge) event, or none', fix: 'invoke it without an event' },
};

const matches: Record<EventKind, (event: unknown) => boolean> = {
  http: isHttpEvent,
  sqs: isSqsEvent,
  // The insight check reads nothing from its event; only another function's event is a mistake.
  schedule: (event) => !isHttpEvent(event) && !isSqsEvent(event) && !isLineCallback(event),
};

/** `event`, once it has the shape `kind`; otherwise an EventShapeError naming what to pass to `functionName`. */
export function eventOfKind<E>(functionName: string, kind: EventKind, event: E): E {
  if (matches[kind](event)) return event;
  const { shape, fix } = EXPECTED[kind];
  throw new EventShapeError(`${functionName} takes ${shape}, got ${describe(event)}: ${fix}`);
}
