/**
 * Regenerates the invoke-local wrappers for every sample body in events/:
 *   events/apigw/<name>.json  API Gateway HTTP API v2 event, signed with the local channel secret
 *   events/sqs/<name>.json    SQS FIFO event with one record per LINE event (for `sls invoke local -f worker`)
 * Bodies are signed over their exact bytes, so never pretty-print them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LineCallback } from '../lib/line/callback';
import { signLineBody } from '../local/sign-line-body';
import { toApiGatewayV2Event, toSqsEvent, toSqsRecord } from '../local/lambda-events';
import { LOCAL_CHANNEL_SECRET, LOCAL_WEBHOOK_PATH, readSampleBodies } from '../local/sample-events';
import { messageGroupId, serializeQueuedEvent } from '../lib/queue/queued-event';

const eventsDir = join(__dirname, '..', 'events');
const LOCAL_QUEUE_ARN = 'arn:aws:sqs:ap-northeast-1:000000000000:line-capillary-bridge-local-events.fifo';

mkdirSync(join(eventsDir, 'apigw'), { recursive: true });
mkdirSync(join(eventsDir, 'sqs'), { recursive: true });
for (const { name, bytes } of readSampleBodies(eventsDir)) {
  const apiEvent = toApiGatewayV2Event({
    method: 'POST',
    path: LOCAL_WEBHOOK_PATH,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-line-signature': signLineBody(bytes, LOCAL_CHANNEL_SECRET), 'user-agent': 'LineBotWebhook/2.0' },
    body: bytes,
    requestId: `sample-${name}`,
    receivedAt: new Date(0),
  });
  writeFileSync(join(eventsDir, 'apigw', `${name}.json`), `${JSON.stringify(apiEvent, null, 2)}\n`);
  const callback = JSON.parse(bytes.toString('utf8')) as LineCallback;
  if (callback.events.length === 0) continue;
  const records = callback.events.map((event, index) => toSqsRecord({
    MessageId: `${name}-${index}`,
    Body: serializeQueuedEvent({ destination: callback.destination, event }),
    Attributes: {
      MessageGroupId: messageGroupId(callback.destination, event),
      MessageDeduplicationId: event.webhookEventId,
      ApproximateReceiveCount: '1',
      SentTimestamp: String(event.timestamp),
      ApproximateFirstReceiveTimestamp: String(event.timestamp),
    },
  }, LOCAL_QUEUE_ARN));
  writeFileSync(join(eventsDir, 'sqs', `${name}.json`), `${JSON.stringify(toSqsEvent(records), null, 2)}\n`);
}
console.log(`signed ${eventsDir}/*.json → events/apigw/, events/sqs/`);
