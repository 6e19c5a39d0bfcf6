/**
 * Regenerates the invoke-local wrappers for every sample body of every local channel (events/ for the
 * channel `default`, events/<dir>/ for the others, see local/sample-events.ts LOCAL_CHANNELS):
 *   events/apigw/[<dir>/]<name>.json  API Gateway HTTP API v2 event, signed with that channel's local secret
 *                                     and posted to that channel's webhook path
 *   events/sqs/[<dir>/]<name>.json    SQS FIFO event with one record per LINE event (for `sls invoke local -f worker`)
 * Bodies are signed over their exact bytes, so never pretty-print them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_CHANNEL_ID } from '../lib/config/channels';
import type { LineCallback } from '../lib/line/callback';
import { messageGroupId, serializeQueuedEvent } from '../lib/queue/queued-event';
import { toApiGatewayV2Event, toSqsEvent, toSqsRecord } from '../local/lambda-events';
import { LOCAL_CHANNELS, readSampleBodies, webhookPathFor } from '../local/sample-events';
import { signLineBody } from '../local/sign-line-body';
import { parseCli } from './cli';

parseCli(
  'usage: npm run sign-events   (no options: rewrites events/apigw/ and events/sqs/ from the sample bodies)',
  {},
);

const eventsDir = join(__dirname, '..', 'events');
const LOCAL_QUEUE_ARN = 'arn:aws:sqs:ap-northeast-1:000000000000:line-capillary-bridge-local-events.fifo';

for (const channel of LOCAL_CHANNELS) {
  const outputDir = (kind: 'apigw' | 'sqs') => join(eventsDir, kind, channel.samplesDir);
  mkdirSync(outputDir('apigw'), { recursive: true });
  mkdirSync(outputDir('sqs'), { recursive: true });
  const prefix = channel.id === DEFAULT_CHANNEL_ID ? '' : `${channel.id}-`;
  for (const { name, bytes } of readSampleBodies(join(eventsDir, channel.samplesDir))) {
    const apiEvent = toApiGatewayV2Event({
      method: 'POST',
      path: webhookPathFor(channel.id === DEFAULT_CHANNEL_ID ? undefined : channel.id),
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-line-signature': signLineBody(bytes, channel.channelSecret),
        'user-agent': 'LineBotWebhook/2.0',
      },
      body: bytes,
      requestId: `sample-${prefix}${name}`,
      receivedAt: new Date(0),
    });
    writeFileSync(join(outputDir('apigw'), `${name}.json`), `${JSON.stringify(apiEvent, null, 2)}\n`);
    const callback = JSON.parse(bytes.toString('utf8')) as LineCallback;
    if (callback.events.length === 0) continue;
    const records = callback.events.map((event, index) =>
      toSqsRecord(
        {
          MessageId: `${prefix}${name}-${index}`,
          Body: serializeQueuedEvent({ channel: channel.id, destination: callback.destination, event }),
          Attributes: {
            MessageGroupId: messageGroupId(callback.destination, event),
            MessageDeduplicationId: event.webhookEventId,
            ApproximateReceiveCount: '1',
            SentTimestamp: String(event.timestamp),
            ApproximateFirstReceiveTimestamp: String(event.timestamp),
          },
        },
        LOCAL_QUEUE_ARN,
      ),
    );
    writeFileSync(join(outputDir('sqs'), `${name}.json`), `${JSON.stringify(toSqsEvent(records), null, 2)}\n`);
  }
}
console.log(
  `signed the samples of channels ${LOCAL_CHANNELS.map((channel) => channel.id).join(', ')} → events/apigw/, events/sqs/`,
);
