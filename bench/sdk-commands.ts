import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

type AwsClient = Pick<SQSClient, 'middlewareStack'> | Pick<DynamoDBClient, 'middlewareStack'>;

/**
 * Counts the commands a real SDK client sends, by command name ("SendMessageBatchCommand"). Counted at
 * the first middleware step, so a command the SDK retries counts once per send() by our code.
 */
export function countCommands(client: AwsClient): Map<string, number> {
  const counts = new Map<string, number>();
  (client.middlewareStack as SQSClient['middlewareStack']).add((next, context) => async (args) => {
    const name = String(context.commandName);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return next(args);
  }, { step: 'initialize', name: 'benchCountCommands' });
  return counts;
}
