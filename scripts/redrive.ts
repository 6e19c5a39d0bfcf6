/**
 * npm run redrive -- --stage prod --region ap-northeast-1 [--mode auto|task|copy] [--max N]
 * npm run redrive -- --dlq-url <url> --queue-url <url> [--mode …] [--max N]
 *
 * Moves the events in the dead-letter queue back to the events queue (after the cause is fixed) and
 * prints how many moved. With --stage the queue names come from serverless.yml.
 */
import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { loadLocalResources } from '../ops/serverless-resources';
import { type RedriveMode, redrive } from '../ops/redrive';
import { createSqsClient } from '../lib/queue/sqs-client';

const USAGE = 'usage: npm run redrive -- (--stage <stage> | --dlq-url <url> --queue-url <url>) [--region <region>] [--mode auto|task|copy] [--max <n>]';

async function queueUrlsOfStage(sqs: SQSClient, stage: string): Promise<{ dlqUrl: string; queueUrl: string }> {
  const { queues } = loadLocalResources(stage);
  const urlOf = async (isDlq: boolean) => {
    const queue = queues.find((candidate) => candidate.isDlq === isDlq);
    if (!queue) throw new Error(`serverless.yml declares no ${isDlq ? 'dead-letter' : 'events'} queue`);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
    return QueueUrl as string;
  };
  return { dlqUrl: await urlOf(true), queueUrl: await urlOf(false) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stage: { type: 'string' },
      region: { type: 'string' },
      'dlq-url': { type: 'string' },
      'queue-url': { type: 'string' },
      mode: { type: 'string', default: 'auto' },
      max: { type: 'string' },
    },
  });
  const mode = values.mode as RedriveMode;
  const maxMessages = values.max === undefined ? undefined : Number(values.max);
  if (!['auto', 'task', 'copy'].includes(mode) || (maxMessages !== undefined && !(Number.isInteger(maxMessages) && maxMessages > 0))) {
    throw new Error(USAGE);
  }

  const sqs = createSqsClient(values.region ? { region: values.region } : {});
  let urls: { dlqUrl: string; queueUrl: string };
  if (values['dlq-url'] && values['queue-url']) urls = { dlqUrl: values['dlq-url'], queueUrl: values['queue-url'] };
  else if (values.stage) urls = await queueUrlsOfStage(sqs, values.stage);
  else throw new Error(USAGE);

  const result = await redrive(sqs, { ...urls, mode, maxMessages });
  console.log(`Moved ${result.moved} message(s) from ${urls.dlqUrl} to ${urls.queueUrl} (${result.mode === 'task' ? 'SQS message move task' : 'copy'}).`);
  if (result.deferred > 0) {
    console.log(`Left ${result.deferred} message(s) in the DLQ: sent less than 5 minutes ago, the queue would deduplicate them. Run again in a few minutes.`);
  }
  if (result.failed > 0) {
    console.error(`${result.failed} message(s) could not be moved (a send or delete failed); run again: the deduplication id keeps a repeat send from doubling them.`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
