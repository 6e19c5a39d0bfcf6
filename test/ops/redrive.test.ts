import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type ListMessageMoveTasksResultEntry,
  type Message,
} from '@aws-sdk/client-sqs';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { createFifoQueue, type TestFifoQueue } from '../../local/rigs/aws-kit';
import { DEDUPLICATION_WINDOW_MS, redrive } from '../../ops/redrive';

// globalSetup points the SDK at a local fauxqs, which (like some SQS-compatible servers) has no message move tasks.
// Its queue URLs name the host sqs.<region>.localhost, which not every resolver knows: keep to the configured endpoint.
const localSqsClient = () => createSqsClient();
const sqs = localSqsClient();
const afterDeduplicationWindow = () => Date.now() + DEDUPLICATION_WINDOW_MS + 1000;

interface DeadLetter {
  group: string;
  body: string;
}

/** Puts messages straight into the DLQ, as redrive from the events queue would have left them. */
async function seedDeadLetters(queue: TestFifoQueue, letters: DeadLetter[]): Promise<void> {
  for (let start = 0; start < letters.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.dlqUrl,
        Entries: letters.slice(start, start + 10).map((letter, index) => ({
          Id: String(index),
          MessageBody: letter.body,
          MessageGroupId: letter.group,
          MessageDeduplicationId: `dedup-${letter.body}`,
          MessageAttributes: { eventType: { DataType: 'String', StringValue: `type-${letter.body}` } },
        })),
      }),
    );
  }
}

/** Receives and deletes until empty (FIFO only hands out a group's next messages once the previous ones are deleted). */
async function drain(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

async function messagesIn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** Answers the move-task actions the local server lacks, so the task path runs against the real SDK client. */
function withMoveTasks(listResponses: ListMessageMoveTasksResultEntry[][]): { client: SQSClient; started: unknown[] } {
  const client = localSqsClient();
  const started: unknown[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'StartMessageMoveTaskCommand') {
        started.push(args.input);
        return { output: { TaskHandle: 'task-1', $metadata: {} }, response: {} } as never;
      }
      if (context.commandName === 'ListMessageMoveTasksCommand') {
        return { output: { Results: listResponses.shift(), $metadata: {} }, response: {} } as never;
      }
      return next(args);
    },
    { step: 'initialize', name: 'moveTaskStub' },
  );
  return { client, started };
}

describe('redrive', () => {
  it('copies every message back when the server has no move task, keeping group, deduplication id, attributes and order', async () => {
    const queue = await createFifoQueue(sqs);
    const letters = Array.from({ length: 13 }, (_, i) => ({ group: `user-${i % 2}`, body: `event-${i}` }));
    await seedDeadLetters(queue, letters);

    const result = await redrive(sqs, {
      dlqUrl: queue.dlqUrl,
      queueUrl: queue.queueUrl,
      now: afterDeduplicationWindow,
    });

    expect(result).toEqual({ mode: 'copy', moved: 13, failed: 0, deferred: 0, movedBodies: expect.any(Array) });
    expect([...result.movedBodies].sort()).toEqual(letters.map((letter) => letter.body).sort());
    expect(await messagesIn(queue.dlqUrl)).toBe(0);
    const redriven = await drain(queue.queueUrl);
    expect(
      redriven
        .map((m) => ({
          group: m.Attributes?.MessageGroupId,
          dedup: m.Attributes?.MessageDeduplicationId,
          type: m.MessageAttributes?.eventType?.StringValue,
          body: m.Body,
        }))
        .sort((a, b) => Number(a.body?.split('-')[1]) - Number(b.body?.split('-')[1])),
    ).toEqual(
      letters.map((letter) => ({
        group: letter.group,
        dedup: `dedup-${letter.body}`,
        type: `type-${letter.body}`,
        body: letter.body,
      })),
    );
    for (const group of ['user-0', 'user-1']) {
      const inGroup = redriven.filter((m) => m.Attributes?.MessageGroupId === group).map((m) => m.Body);
      expect(inGroup).toEqual(letters.filter((letter) => letter.group === group).map((letter) => letter.body));
    }
  });

  it('stops after maxMessages and leaves the rest in the DLQ', async () => {
    const queue = await createFifoQueue(sqs);
    await seedDeadLetters(
      queue,
      Array.from({ length: 5 }, (_, i) => ({ group: `user-${i}`, body: `event-${i}` })),
    );

    const result = await redrive(sqs, {
      dlqUrl: queue.dlqUrl,
      queueUrl: queue.queueUrl,
      maxMessages: 3,
      now: afterDeduplicationWindow,
    });

    expect(result).toEqual({ mode: 'copy', moved: 3, failed: 0, deferred: 0, movedBodies: expect.any(Array) });
    expect((await drain(queue.queueUrl)).map((message) => message.Body).sort()).toEqual([...result.movedBodies].sort());
    expect(await messagesIn(queue.dlqUrl)).toBe(2);
  });

  it('leaves messages sent within the deduplication window in the DLQ instead of losing them', async () => {
    const queue = await createFifoQueue(sqs);
    await seedDeadLetters(queue, [{ group: 'user-1', body: 'event-1' }]);

    const sentBefore = Date.now();
    await seedDeadLetters(queue, [{ group: 'user-2', body: 'event-2' }]);
    const sentAfter = Date.now();

    const result = await redrive(sqs, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, mode: 'copy' });

    expect(result).toEqual({
      mode: 'copy',
      moved: 0,
      failed: 0,
      deferred: 2,
      movedBodies: [],
      retryAfter: expect.any(Number),
    });
    // The later of the two decides: from then on neither would be deduplicated.
    expect(result.retryAfter).toBeGreaterThanOrEqual(sentBefore + DEDUPLICATION_WINDOW_MS - 1000);
    expect(result.retryAfter).toBeLessThanOrEqual(sentAfter + DEDUPLICATION_WINDOW_MS + 1000);
    expect(await messagesIn(queue.dlqUrl)).toBe(2);
    expect(await messagesIn(queue.queueUrl)).toBe(0);
  });

  it('leaves deferred messages visible, so the next run moves them once the window has passed', async () => {
    const queue = await createFifoQueue(sqs);
    await seedDeadLetters(queue, [{ group: 'user-1', body: 'event-1' }]);
    const deferred = await redrive(sqs, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, mode: 'copy' });

    const later = await redrive(sqs, {
      dlqUrl: queue.dlqUrl,
      queueUrl: queue.queueUrl,
      mode: 'copy',
      now: afterDeduplicationWindow,
    });

    expect(deferred.deferred).toBe(1);
    expect(later).toEqual({ mode: 'copy', moved: 1, failed: 0, deferred: 0, movedBodies: ['event-1'] });
  });

  it('reports an unsupported move task when task mode is asked for explicitly', async () => {
    const queue = await createFifoQueue(sqs);
    await expect(redrive(sqs, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, mode: 'task' })).rejects.toMatchObject({
      name: 'InvalidAction',
    });
    await expect(
      redrive(sqs, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, mode: 'task', maxMessages: 1 }),
    ).rejects.toThrow(/copy mode/);
  });

  it('starts a move task from the DLQ to the events queue and reports its count once it completes', async () => {
    const queue = await createFifoQueue(sqs);
    const { client, started } = withMoveTasks([
      [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2 }],
      [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7 }],
    ]);

    const result = await redrive(client, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, pollIntervalMs: 1 });

    expect(result).toEqual({ mode: 'task', moved: 7, failed: 0, deferred: 0, movedBodies: [] });
    expect(started).toEqual([
      { SourceArn: queue.queueArn.replace(/\.fifo$/, '-dlq.fifo'), DestinationArn: queue.queueArn },
    ]);
  });

  it('fails loudly when the move task fails', async () => {
    const queue = await createFifoQueue(sqs);
    const { client } = withMoveTasks([
      [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AccessDenied' }],
    ]);

    await expect(
      redrive(client, { dlqUrl: queue.dlqUrl, queueUrl: queue.queueUrl, pollIntervalMs: 1 }),
    ).rejects.toThrow('message move task failed after moving 1: AccessDenied');
  });
});
