import { randomUUID } from 'node:crypto';

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';

import { createSqsClient } from '../../../lib/queue/sqs-client';
import { checkAws, type AwsTarget } from '../../../ops/doctor/aws-checks';
import type { CheckResult } from '../../../ops/doctor/check';

/** SSM answers per command (no local SSM server): what DescribeParameters lists, which names GetParameter refuses. */
function fakeSsm(described: Record<string, { Type: string; KeyId?: string }>, undecryptable: string[] = []): SSMClient {
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    if (command.constructor.name === 'DescribeParametersCommand') {
      const [name] = (command.input.ParameterFilters as { Values: string[] }[])[0]?.Values ?? [];
      const found = described[name as string];
      return { Parameters: found ? [{ Name: name, ...found }] : [] };
    }
    if (undecryptable.includes(command.input.Name as string))
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    return { Parameter: { Name: command.input.Name, Value: 'secret' } };
  };
  return { send } as unknown as SSMClient;
}

/** DynamoDB's DescribeContinuousBackups (dynalite has none) answering `status`. */
const fakeDynamo = (status: string) =>
  ({
    send: async () => ({
      ContinuousBackupsDescription: { PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: status } },
    }),
  }) as unknown as DynamoDBClient;

/** CloudWatch holding the stage's one alarm, OK (the alarms check has its own tests, against moto). */
const ALARM_NAME = 'line-capillary-bridge-prod-dead-letter-queue';
const fakeCloudWatch = {
  send: async () => ({ MetricAlarms: [{ AlarmName: ALARM_NAME, StateValue: 'OK' }] }),
} as unknown as CloudWatchClient;

const sqs: SQSClient = createSqsClient({ region: 'ap-northeast-1' });
afterAll(() => sqs.destroy());

async function queues(): Promise<{ events: string; dlq: string; dlqUrl: string }> {
  const suffix = randomUUID().slice(0, 8);
  const events = `doctor-events-${suffix}`;
  const dlq = `doctor-dlq-${suffix}`;
  await sqs.send(new CreateQueueCommand({ QueueName: events }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: dlq }));
  return { events, dlq, dlqUrl: QueueUrl as string };
}

function deployed(overrides: Partial<AwsTarget>, names: { events: string; dlq: string }): AwsTarget {
  return {
    stage: 'prod',
    local: false,
    sqs,
    dynamo: fakeDynamo('ENABLED'),
    ssm: fakeSsm({ '/line-capillary-bridge/prod/line-channels': { Type: 'SecureString', KeyId: 'alias/aws/ssm' } }),
    parameters: new Map([['/line-capillary-bridge/prod/line-channels', ['webhook', 'worker']]]),
    kmsKeyArn: '',
    queues: [
      { name: names.dlq, isDlq: true },
      { name: names.events, isDlq: false },
    ],
    tableName: 'line-capillary-bridge-prod-users',
    cloudWatch: fakeCloudWatch,
    alarmNames: [ALARM_NAME],
    ...overrides,
  };
}

const byCheck = (results: CheckResult[]) => Object.fromEntries(results.map((result) => [result.check, result]));

describe('doctor: AWS checks', () => {
  it('passes a deployed stage whose parameters, queues and table are and alarms are as serverless.yml makes them', async () => {
    // Prepare
    const names = await queues();
    // Act
    const results = await checkAws(deployed({}, names));
    // Assess
    expect(results.map(({ status }) => status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(byCheck(results).alarms?.detail).toBe('all 1 exist, 0 in ALARM');
  });

  it('fails a missing parameter, one in the wrong key, and one that does not decrypt, each with its fix', async () => {
    // Prepare
    const names = await queues();
    const parameters = new Map([
      ['/p/missing', ['worker']],
      ['/p/other-key', ['worker']],
      ['/p/denied', ['worker']],
    ]);
    const ssm = fakeSsm(
      { '/p/other-key': { Type: 'SecureString', KeyId: 'alias/brand' }, '/p/denied': { Type: 'SecureString' } },
      ['/p/denied'],
    );
    // Act
    const results = byCheck(await checkAws(deployed({ parameters, ssm }, names)));
    // Assess
    expect(results['SSM /p/missing']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('aws ssm put-parameter --type SecureString --name /p/missing'),
    });
    expect(results['SSM /p/other-key']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('--key-id alias/aws/ssm'),
    });
    expect(results['SSM /p/denied']).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('AccessDeniedException'),
    });
  });

  it('fails a DLQ holding messages (redrive), a missing queue (deploy) and a table without point-in-time recovery', async () => {
    // Prepare
    const names = await queues();
    await sqs.send(new SendMessageCommand({ QueueUrl: names.dlqUrl, MessageBody: '{}' }));
    const target = deployed({ dynamo: fakeDynamo('DISABLED') }, { ...names, events: `${names.events}-gone` });
    // Act
    const results = byCheck(await checkAws(target));
    // Assess
    expect(results[`queue ${names.dlq}`]).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('npm run redrive -- --stage prod'),
    });
    expect(results[`queue ${names.events}-gone`]).toMatchObject({
      status: 'fail',
      fix: 'deploy the stack: npx sls deploy --stage prod',
    });
    expect(results['point-in-time recovery of line-capillary-bridge-prod-users']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('update-continuous-backups'),
    });
  });

  it('on the local stage checks the queues only', async () => {
    // Prepare
    const names = await queues();
    const dynamo = new DynamoDBClient({});
    // Act
    const results = await checkAws({ ...deployed({ dynamo }, names), local: true, stage: 'local', ssm: undefined });
    dynamo.destroy();
    // Assess
    expect(results.map(({ check, status }) => `${status} ${check}`)).toEqual([
      'pass SSM parameters',
      `pass queue ${names.dlq}`,
      `pass queue ${names.events}`,
      'pass alarms',
      'pass point-in-time recovery',
    ]);
  });
});
