import { randomBytes } from 'node:crypto';

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';

const uniqueSuffix = () => randomBytes(4).toString('hex');

type AwsClient = Pick<SQSClient, 'middlewareStack'> | Pick<DynamoDBClient, 'middlewareStack'>;

/**
 * Counts the commands a real SDK client sends, by command name ("SendMessageBatchCommand") or by the
 * label `labelOf` gives a command and its input. Counted at the first middleware step, so a command
 * the SDK retries counts once per send() by our code.
 */
export function countCommands(
  client: AwsClient,
  labelOf: (commandName: string, input: unknown) => string = (name) => name,
): Map<string, number> {
  const counts = new Map<string, number>();
  (client.middlewareStack as SQSClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const name = labelOf(String(context.commandName), args.input);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

export interface TestFifoQueue {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
}

/** A uniquely named FIFO queue with a FIFO DLQ on the local SQS server (globalSetup's fauxqs). */
export async function createFifoQueue(
  sqs: SQSClient,
  { maxReceiveCount = 3, visibilityTimeout = 30 } = {},
): Promise<TestFifoQueue> {
  const name = `test-${uniqueSuffix()}`;
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }),
  );
  const dlqUrl = dlq.QueueUrl as string;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn;
  return { queueUrl, queueArn: queueArn as string, dlqUrl };
}

/** Receives until the queue answers empty; FIFO hides a group's later messages while one is in flight, so callers delete or wait. */
export async function receiveAll(sqs: SQSClient, queueUrl: string, visibilityTimeout = 30): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: visibilityTimeout,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!result.Messages?.length) return messages;
    messages.push(...result.Messages);
  }
}
