import { spawnSync } from 'node:child_process';
import { startAwsServers } from './lib/local/aws-servers';
import { loadLocalResources } from './lib/local/serverless-resources';
import { SQSClient, CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
(async () => {
  const s = await startAwsServers({ dynamoPort: 0, sqsPort: 0 });
  Object.assign(process.env, s.env);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const urls: string[] = [];
  for (const q of loadLocalResources('try').queues) urls.push((await sqs.send(new CreateQueueCommand({ QueueName: q.name, Attributes: q.attributes }))).QueueUrl!);
  await sqs.send(new SendMessageCommand({ QueueUrl: urls[0], MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'd' }));
  for (const args of [['--stage', 'try', '--mode', 'copy'], ['--dlq-url', urls[0]!, '--queue-url', urls[1]!], ['--max', '0'], []]) {
    const r = spawnSync('npx', ['tsx', 'scripts/redrive.ts', ...args], { env: process.env, encoding: 'utf8' });
    console.log(args.join(' '), '=>', r.status, r.stdout.trim(), r.stderr.split('\n').filter(l => !/warn|node|2027|upgrade|a\.co|^$|trace|continue/i.test(l)).join('|'));
  }
  await s.stop();
})();
