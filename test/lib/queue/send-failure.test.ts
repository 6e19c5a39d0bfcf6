import { createServer } from 'node:net';

import { EnqueueError } from '../../../lib/queue/errors';
import { enqueueBatches, toBatches, toEntries } from '../../../lib/queue/event-queue';
import { sendFailureReason } from '../../../lib/queue/send-failure';
import { createSqsClient } from '../../../lib/queue/sqs-client';
import { DESTINATION, followEvent, lineUserId } from '../../../local/line-event-factory';

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('sendFailureReason', () => {
  it("names a queue that cannot be reached, where the SDK's error is a bare Error", async () => {
    // Prepare: a client for a queue server that is not running (the local pipeline not started)
    const port = await closedPort();
    const sqs = createSqsClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'ap-northeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const batches = toBatches(toEntries('default', DESTINATION, [followEvent(lineUserId(), 1)]));
    try {
      // Act
      const failure = await enqueueBatches(sqs, `http://127.0.0.1:${port}/000000000000/q.fifo`, batches, {
        maxAttempts: 1,
        retryDelayMs: 0,
      }).catch((error: unknown) => error);
      // Assess
      expect(failure).toBeInstanceOf(EnqueueError);
      expect((failure as EnqueueError).failures.map((f) => f.reason)).toEqual([
        `queue unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
      ]);
    } finally {
      sqs.destroy();
    }
  });

  it("keeps the name of an error SQS answered with, and reads Node's reason from a wrapped error", () => {
    expect(sendFailureReason(Object.assign(new Error('denied'), { name: 'AccessDenied' }))).toBe('AccessDenied');
    expect(
      sendFailureReason(Object.assign(new Error('getaddrinfo ENOTFOUND sqs.example'), { code: 'ENOTFOUND' })),
    ).toBe('queue unreachable: getaddrinfo ENOTFOUND sqs.example');
  });
});
