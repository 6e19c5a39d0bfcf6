import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface BatchEntry {
  Id: string;
  MessageBody: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/** Decides, per SendMessageBatch call, which entry ids SQS "fails" (the rest succeed). */
export type FailurePlan = (call: number, entries: BatchEntry[]) => string[];

export interface SqsRecorder {
  endpoint: string;
  /** every SendMessageBatch call, in arrival order */
  calls: BatchEntry[][];
  /** bodies SQS accepted */
  accepted: BatchEntry[];
  close(): Promise<void>;
}

/**
 * A minimal server speaking the SQS JSON protocol for SendMessageBatch, so tests can make SQS fail
 * chosen entries (which a real queue will not do on demand) while the real SDK client talks to it.
 */
export async function startSqsRecorder(plan: FailurePlan): Promise<SqsRecorder> {
  const calls: BatchEntry[][] = [];
  const accepted: BatchEntry[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (target !== 'AmazonSQS.SendMessageBatch') {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#UnsupportedOperation', message: target }));
        return;
      }
      const { Entries: entries } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: BatchEntry[] };
      calls.push(entries);
      const failing = new Set(plan(calls.length, entries));
      const md5 = (text: string) => createHash('md5').update(text).digest('hex');
      res.end(
        JSON.stringify({
          Successful: entries
            .filter((e) => !failing.has(e.Id))
            .map((e) => {
              accepted.push(e);
              return { Id: e.Id, MessageId: `m-${calls.length}-${e.Id}`, MD5OfMessageBody: md5(e.MessageBody) };
            }),
          Failed: entries
            .filter((e) => failing.has(e.Id))
            .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'injected' })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
