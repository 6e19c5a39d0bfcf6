import { createHash, randomUUID } from 'node:crypto';

import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';

type RequestHandler = SQSClient['config']['requestHandler'];

/** SQS's JSON answer to a SendMessageBatch that accepted every entry (the SDK checks each body's MD5). */
function acceptedBatchResponse(entries: readonly SendMessageBatchRequestEntry[]): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      Successful: entries.map((entry) => ({
        Id: entry.Id,
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5')
          .update(entry.MessageBody ?? '')
          .digest('hex'),
        SequenceNumber: '18888888888888888888',
      })),
      Failed: [],
    }),
  );
}

/**
 * The SQS client's transport, answered in-process: serialisation, signing and every SDK middleware run
 * as in Lambda, only the network round trip is gone. Answers are prepared before timing starts (one per
 * batch, in send order) so the transport adds no CPU of its own; a batch answered out of order fails
 * the SDK's MD5 check, so a mismatch cannot pass unnoticed.
 */
export class LocalSqsTransport {
  #answers: Uint8Array[] = [];
  #next = 0;

  /** The batches each request will send, in order (toBatches of the same body). */
  answer(batches: readonly (readonly SendMessageBatchRequestEntry[])[]): void {
    this.#answers = batches.map(acceptedBatchResponse);
    this.#next = 0;
  }

  install(client: SQSClient): void {
    const handler: Pick<RequestHandler, 'handle'> = {
      handle: async () => {
        const body = this.#answers[this.#next++ % this.#answers.length];
        if (body === undefined) throw new Error('LocalSqsTransport: no prepared answer');
        // A copy: the SDK re-prototypes the body it is given.
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' },
            body: body.slice(),
          },
        };
      },
    };
    // The client is the one the handler's runtime built (createSqsClient); only its transport is swapped.
    Object.assign(client.config.requestHandler, handler);
  }
}
