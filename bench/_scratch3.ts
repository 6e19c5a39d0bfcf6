import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LocalSqsTransport } from './local-sqs-transport';
import { callbackBody, followEvent, lineUserId } from '../test/support/line-factories';
import { parseCallback } from '../lib/line/callback';
import { toBatches, toEntries } from '../lib/queue/event-queue';
(async () => {
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false, cacheMiddleware: process.env.CACHE === '1' });
  const t = new LocalSqsTransport(); t.install(sqs);
  const body = callbackBody([followEvent(lineUserId(), Date.now())]);
  const cb = parseCallback(Buffer.from(body));
  const batches = toBatches(toEntries(cb.destination, cb.events));
  t.answer(batches);
  const run = () => sqs.send(new SendMessageBatchCommand({ QueueUrl: process.env.QUEUE_URL, Entries: batches[0] }));
  for (let i = 0; i < 3000; i++) await run();
  for (let k = 0; k < 3; k++) { const t0 = process.cpuUsage(); for (let i = 0; i < 3000; i++) await run();
  const u = process.cpuUsage(t0); console.error('cache', process.env.CACHE, (u.user + u.system) / 3000, 'us'); }
})();
