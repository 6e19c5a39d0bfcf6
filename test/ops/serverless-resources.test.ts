import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { CUSTOMER_INDEXES } from '../../lib/store/customer-index';
import { alarmNames, functionEnvironment, loadLocalResources } from '../../ops/serverless-resources';

function serverlessYml(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'serverless-resources-')), 'serverless.yml');
  writeFileSync(file, text);
  return file;
}

describe('loadLocalResources', () => {
  it('reads the user table and the FIFO queue pair of serverless.yml for a stage', () => {
    const { tables, queues } = loadLocalResources('local');

    expect(tables).toEqual([
      {
        TableName: 'line-capillary-bridge-local-users',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'customerKey', AttributeType: 'S' },
          { AttributeName: 'memberKey', AttributeType: 'S' },
          { AttributeName: 'replacedKey', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: Object.entries(CUSTOMER_INDEXES).map(([IndexName, AttributeName]) => ({
          IndexName,
          KeySchema: [{ AttributeName, KeyType: 'HASH' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['channel'] },
        })),
      },
    ]);
    expect(queues.map((queue) => [queue.logicalId, queue.name, queue.isDlq])).toEqual([
      ['EventsDeadLetterQueue', 'line-capillary-bridge-local-events-dlq.fifo', true],
      ['EngagementDeadLetterQueue', 'line-capillary-bridge-local-engagement-dlq.fifo', true],
      ['BackfillDeadLetterQueue', 'line-capillary-bridge-local-backfill-dlq', true],
      ['EventsQueue', 'line-capillary-bridge-local-events.fifo', false],
      ['EngagementQueue', 'line-capillary-bridge-local-engagement.fifo', false],
      ['BackfillQueue', 'line-capillary-bridge-local-backfill', false],
      ['InsightCheckFailureQueue', 'line-capillary-bridge-local-insight-check-failures', false],
    ]);
    const [deadLetterQueue, , , eventsQueue] = queues;
    expect(deadLetterQueue?.attributes).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      MessageRetentionPeriod: '1209600',
    });
    expect(eventsQueue?.attributes).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: '360',
    });
    expect(JSON.parse(eventsQueue?.attributes.RedrivePolicy ?? '')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:ap-northeast-1:000000000000:line-capillary-bridge-local-events-dlq.fifo',
      maxReceiveCount: 5,
    });
  });

  it('names everything after the stage it is asked for', () => {
    const { tables, queues } = loadLocalResources('qa');
    expect(tables.map((table) => table.TableName)).toEqual(['line-capillary-bridge-qa-users']);
    expect(queues.map((queue) => queue.name)).toEqual([
      'line-capillary-bridge-qa-events-dlq.fifo',
      'line-capillary-bridge-qa-engagement-dlq.fifo',
      'line-capillary-bridge-qa-backfill-dlq',
      'line-capillary-bridge-qa-events.fifo',
      'line-capillary-bridge-qa-engagement.fifo',
      'line-capillary-bridge-qa-backfill',
      'line-capillary-bridge-qa-insight-check-failures',
    ]);
  });

  it('creates working tables and queues on the local AWS servers', async () => {
    const stage = `t${randomBytes(4).toString('hex')}`;
    const { tables, queues } = loadLocalResources(stage);
    const dynamo = new DynamoDBClient({});
    const sqs = createSqsClient();

    for (const table of tables) await dynamo.send(new CreateTableCommand(table));
    const queueUrls = new Map<string, string>();
    for (const queue of queues) {
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes }),
      );
      queueUrls.set(queue.name, QueueUrl as string);
    }

    const { Table } = await dynamo.send(
      new DescribeTableCommand({ TableName: `line-capillary-bridge-${stage}-users` }),
    );
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const attributesOf = async (name: string) =>
      (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrls.get(name),
            AttributeNames: ['QueueArn', 'RedrivePolicy'],
          }),
        )
      ).Attributes ?? {};
    const deadLetterQueue = await attributesOf(`line-capillary-bridge-${stage}-events-dlq.fifo`);
    const eventsQueue = await attributesOf(`line-capillary-bridge-${stage}-events.fifo`);
    // The ARN form the loader writes is the one the local server gives the DLQ.
    expect(JSON.parse(eventsQueue.RedrivePolicy ?? '').deadLetterTargetArn).toBe(deadLetterQueue.QueueArn);
  });

  it('resolves ${self:…}, ${sls:stage}, ${opt:…} fallbacks and per-stage ${param:…} like the Framework', () => {
    const file = serverlessYml(`
service: demo
provider:
  stage: \${opt:stage, 'dev'}
params:
  default: { visibility: 30, retries: 3 }
  prod: { visibility: 90 }
resources:
  Resources:
    Dlq:
      Type: AWS::SQS::Queue
      Properties: { QueueName: '\${self:service}-\${self:provider.stage}-dlq' }
    Events:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: \${self:service}-\${sls:stage}-events
        VisibilityTimeout: \${param:visibility}
        RedrivePolicy: { deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: '\${param:retries}' }
    Topic: { Type: AWS::SNS::Topic, Properties: { TopicName: !Sub '\${AWS::StackName}' } }
`);
    const [dlq, events] = loadLocalResources('prod', file).queues;
    expect(dlq?.name).toBe('demo-prod-dlq');
    expect(events).toEqual({
      logicalId: 'Events',
      name: 'demo-prod-events',
      attributes: {
        VisibilityTimeout: '90',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:ap-northeast-1:000000000000:demo-prod-dlq',
          maxReceiveCount: 3,
        }),
      },
      isDlq: false,
    });
  });

  it('names a variable it cannot resolve instead of guessing', () => {
    const file = serverlessYml(`
service: demo
resources:
  Resources:
    Events: { Type: AWS::SQS::Queue, Properties: { QueueName: '\${param:missing}.fifo' } }
`);
    expect(() => loadLocalResources('dev', file)).toThrow(
      'serverless.yml: cannot resolve ${param:missing} for stage "dev"',
    );
  });
});

describe('functionEnvironment', () => {
  it("leaves out what the stage's channel mode does not set, as the Framework drops a variable resolved to null", () => {
    const file = serverlessYml(`
service: demo
params:
  default: { mode: single }
  multi: { mode: list }
custom:
  byMode:
    single: { SECRET_PARAM: /demo/secret }
    list: { LIST_PARAM: /demo/list }
functions:
  hook:
    environment:
      SECRET_PARAM: \${self:custom.byMode.\${param:mode}.SECRET_PARAM, null}
      LIST_PARAM: \${self:custom.byMode.\${param:mode}.LIST_PARAM, null}
      QUEUE_URL: !Ref Queue
`);
    expect(functionEnvironment('prod', 'hook', file)).toEqual({
      SECRET_PARAM: '/demo/secret',
      QUEUE_URL: { Ref: 'Queue' },
    });
    expect(functionEnvironment('multi', 'hook', file)).toEqual({
      LIST_PARAM: '/demo/list',
      QUEUE_URL: { Ref: 'Queue' },
    });
  });

  it("gives the worker of a deployed stage serverless.yml's single-channel variables and no channel list", () => {
    const environment = functionEnvironment('ci', 'worker');
    expect(environment).toMatchObject({
      LINE_CHANNEL_ACCESS_TOKEN_PARAM: '/line-capillary-bridge/ci/line-channel-access-token',
      CAPILLARY_LINE_ACCOUNT_ID: 'ci-line-account',
      TABLE_NAME: { Ref: 'UsersTable' },
    });
    expect(
      Object.keys(environment).filter((name) => name.startsWith('LINE_CHANNELS') || name.startsWith('CAPILLARY_ORGS')),
    ).toEqual([]);
  });
});

describe('alarmNames', () => {
  it('names every CloudWatch alarm of the template as it is on the stage, nothing else', () => {
    const file = serverlessYml(`
service: demo
resources:
  Resources:
    Errors:
      Type: AWS::CloudWatch::Alarm
      Properties: { AlarmName: '\${self:service}-\${sls:stage}-errors', Threshold: 0 }
    Age: { Type: AWS::CloudWatch::Alarm, Properties: { AlarmName: '\${self:service}-\${sls:stage}-age' } }
    Events: { Type: AWS::SQS::Queue, Properties: { QueueName: '\${self:service}-\${sls:stage}-events' } }
`);
    expect(alarmNames('prod', file)).toEqual(['demo-prod-errors', 'demo-prod-age']);
  });

  it("reads serverless.yml's own alarms, both dead-letter queues' among them (the doctor checks them all)", () => {
    expect(alarmNames('prod')).toEqual(
      expect.arrayContaining(
        ['dead-letter-queue', 'engagement-dead-letter-queue', 'engagement-queue-age'].map(
          (alarm) => `line-capillary-bridge-prod-${alarm}`,
        ),
      ),
    );
  });
});
