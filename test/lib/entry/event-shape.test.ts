import { readFileSync } from 'node:fs';
import path from 'node:path';

import { EventShapeError } from '../../../lib/entry/errors';
import { eventOfKind } from '../../../lib/entry/event-shape';

const sample = (file: string): unknown =>
  JSON.parse(readFileSync(path.resolve(__dirname, '../../../events', file), 'utf8')) as unknown;

/** The EventShapeError eventOfKind throws, for its message and stack. */
function refusal(run: () => unknown): EventShapeError {
  try {
    run();
  } catch (error) {
    if (error instanceof EventShapeError) return error;
    throw error;
  }
  throw new Error('the event was accepted');
}

describe('eventOfKind', () => {
  it('hands each sample to the function that takes it, unchanged', () => {
    const http = sample('apigw/02-follow.json');
    const sqs = sample('sqs/02-follow.json');
    expect(eventOfKind('webhook', 'http', http)).toBe(http);
    expect(eventOfKind('worker', 'sqs', sqs)).toBe(sqs);
    expect(eventOfKind('insightCheck', 'schedule', { source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual(
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
    );
    // `sls invoke local` without -p passes an empty string.
    expect(eventOfKind('insightCheck', 'schedule', '')).toBe('');
  });

  it('answers an API Gateway event sent to the worker with one line naming the sample to pass', () => {
    const error = refusal(() => eventOfKind('worker', 'sqs', sample('apigw/02-follow.json')));
    expect(error.message).toBe(
      'worker takes an SQS event (Records with eventSource aws:sqs), got an API Gateway HTTP API event: pass one such as events/sqs/02-follow.json; an HTTP API event goes to the webhook',
    );
    expect(error.stack).toBe(`EventShapeError: ${error.message}`);
  });

  it('tells a bare LINE body sent to the webhook from the HTTP API event that wraps it', () => {
    expect(refusal(() => eventOfKind('webhook', 'http', sample('02-follow.json'))).message).toBe(
      'webhook takes an API Gateway HTTP API (payload 2.0) event, got a bare LINE webhook body (not wrapped in an HTTP API event): pass one such as events/apigw/02-follow.json (the LINE body wrapped as API Gateway sends it)',
    );
  });

  it('names what it got by shape only, never by a value in it', () => {
    const message = refusal(() =>
      eventOfKind('linkApi', 'http', { userId: 'Ua1b2c3d4e5f60718293a4b5c6d7e8f90' }),
    ).message;
    expect(message).toContain('got an object with userId:');
    expect(message).not.toContain('Ua1b2c3d4e5f60718293a4b5c6d7e8f90');
    expect(refusal(() => eventOfKind('backfill', 'sqs', '')).message).toContain('got no event:');
    expect(refusal(() => eventOfKind('insightCheck', 'schedule', sample('sqs/02-follow.json'))).message).toBe(
      'insightCheck takes a scheduled (EventBridge) event, or none, got an SQS event: invoke it without an event',
    );
  });
});
