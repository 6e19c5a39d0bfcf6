import type { SQSRecord } from 'aws-lambda';

import { BridgeError } from '../errors';

/** An earlier record of the same FIFO message group failed in this batch: this one waits for SQS to retry both, in order. */
export class MessageGroupSkippedError extends BridgeError {
  override readonly name = 'MessageGroupSkippedError';

  constructor(
    public readonly messageId: string,
    public readonly failedMessageId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Record ${messageId} not processed: record ${failedMessageId} of its message group failed earlier in the batch`,
      options,
    );
  }
}

/**
 * FIFO order without FIFO slowness: the records of one message group (one LINE user) run one after the
 * other, in batch order; different groups run side by side. A record whose predecessor failed is not
 * run and fails with MessageGroupSkippedError, so SQS redelivers the rest of that group in order and
 * other groups are unaffected (Powertools' skipGroupOnError, without processing the batch one by one).
 * Each record runs once, however often or in whatever order the returned handler is called for it.
 */
export function inMessageGroupOrder<R>(
  records: readonly SQSRecord[],
  handle: (record: SQSRecord) => Promise<R>,
): (record: SQSRecord) => Promise<R> {
  const predecessor = new Map<string, SQSRecord>();
  const lastOfGroup = new Map<string, SQSRecord>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    const previous = lastOfGroup.get(group);
    if (previous !== undefined) predecessor.set(record.messageId, previous);
    lastOfGroup.set(group, record);
  }
  const runs = new Map<string, Promise<R>>();
  const run = (record: SQSRecord): Promise<R> => {
    let started = runs.get(record.messageId);
    if (started === undefined) {
      const previous = predecessor.get(record.messageId);
      const after =
        previous === undefined
          ? Promise.resolve()
          : run(previous).then(
              () => undefined,
              (error: unknown) => {
                throw error instanceof MessageGroupSkippedError
                  ? new MessageGroupSkippedError(record.messageId, error.failedMessageId, { cause: error.cause })
                  : new MessageGroupSkippedError(record.messageId, previous.messageId, { cause: error });
              },
            );
      started = after.then(() => handle(record));
      runs.set(record.messageId, started);
    }
    return started;
  };
  return run;
}
