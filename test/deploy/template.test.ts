/**
 * Packages the stack exactly as `sls deploy` would (stage ci), offline and without AWS credentials, and
 * checks the CloudFormation template and the per-function bundles against what a production account needs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { createSqsClient } from '../../lib/queue/sqs-client';
import { callbackBody, followEvent, lineUserId } from '../../local/line-event-factory';
import { createFifoQueue, receiveAll } from '../../local/rigs/aws-kit';
import { signedWebhookRequest } from '../../local/rigs/webhook-rig';
import { LOCAL_CHANNEL_SECRET } from '../../local/sample-events';
import { packageStack, type PackagedStack } from '../../ops/package-stack';
import { loadLocalResources } from '../../ops/serverless-resources';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);
const STAGE = 'ci';
const LOCAL_SECRETS = [
  '0123456789abcdef0123456789abcdef',
  'local-channel-access-token',
  'local-client-key',
  'local-client-secret',
];

// CloudFormation JSON is walked freely; its shape is what the assertions check.
type Json = Record<string, any>;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Policy statements, with both branches of conditional (Fn::If) statements. */
function statementsOf(policyDocument: Json): Statement[] {
  return asList(policyDocument.Statement as Json | Json[]).flatMap((statement) =>
    statement['Fn::If'] ? (statement['Fn::If'] as Json[]).slice(1).filter((branch) => !branch.Ref) : [statement],
  ) as Statement[];
}

const actionsOf = (statements: Statement[]) =>
  new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => asList(s.Action)));
const resourcesFor = (statements: Statement[], action: string) =>
  statements.filter((s) => asList(s.Action).includes(action)).map((s) => s.Resource);
const ssmParameter = (secret: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/line-capillary-bridge/${STAGE}/${secret}`,
});

/** The template's stack parameters as a deployment leaves them: their defaults (`sls deploy` passes none). */
const parameterDefaults = (template: Json): Json =>
  Object.fromEntries(Object.entries((template.Parameters ?? {}) as Json).map(([name, p]) => [name, p.Default]));

/** A condition as CloudFormation evaluates it: equalities of literals or of stack parameters, and their negation. */
function conditionHolds(template: Json, expression: Json | string): boolean {
  if (typeof expression === 'string') return conditionHolds(template, template.Conditions[expression] as Json);
  if (expression['Fn::Not']) return !conditionHolds(template, (expression['Fn::Not'] as Json[])[0]!);
  const [left, right] = (expression['Fn::Equals'] as unknown[]).map((side) =>
    (side as Json | null)?.Ref === undefined ? side : parameterDefaults(template)[(side as Json).Ref as string],
  );
  if (typeof left !== 'string' || typeof right !== 'string')
    throw new Error(`condition not decided at deployment: ${JSON.stringify(expression)}`);
  return left === right;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The value with every Fn::If taken, stack parameters filled in and every AWS::NoValue dropped, as deployed. */
function resolveIfs(template: Json, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIfs(template, item)).filter((item) => item !== NO_VALUE);
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Json;
  if (object.Ref === 'AWS::NoValue') return NO_VALUE;
  if (typeof object.Ref === 'string' && object.Ref in parameterDefaults(template))
    return parameterDefaults(template)[object.Ref];
  if (object['Fn::If']) {
    const [condition, whenTrue, whenFalse] = object['Fn::If'] as [string, unknown, unknown];
    return resolveIfs(template, conditionHolds(template, condition) ? whenTrue : whenFalse);
  }
  return Object.fromEntries(
    Object.entries(object)
      .map(([key, item]) => [key, resolveIfs(template, item)])
      .filter(([, item]) => item !== NO_VALUE),
  );
}

type FunctionName = 'Webhook' | 'Worker' | 'Backfill' | 'InsightCheck' | 'LinkApi' | 'CapillaryNotifications';

/** What the assertions read off `sls package`'s output. */
class PackagedStackView {
  constructor(readonly packaged: PackagedStack) {}

  /** What CloudFormation deploys: the resources with the template's conditions applied. */
  get deployed(): Json {
    return resolveIfs(this.template, this.resources) as Json;
  }

  get dir(): string {
    return this.packaged.dir;
  }

  get template(): Json {
    return this.packaged.template;
  }

  get resources(): Json {
    return this.template.Resources as Json;
  }

  functionNamed(name: FunctionName): Json {
    return this.resources[`${name}LambdaFunction`].Properties as Json;
  }

  environmentOf(name: FunctionName): Json {
    return this.deployed[`${name}LambdaFunction`].Properties.Environment.Variables as Json;
  }

  roleStatements(name: FunctionName): Statement[] {
    return (this.deployed[`${name}Role`].Properties.Policies as Json[]).flatMap((policy) =>
      statementsOf(policy.PolicyDocument),
    );
  }
}

const packaged: PackagedStack[] = [];
const packageCiStack = (params: Record<string, string> = {}, stage = STAGE): PackagedStackView => {
  const stack = packageStack({ stage, params });
  packaged.push(stack);
  return new PackagedStackView(stack);
};

/** Packaged on first use, once: the tests that read a variant package it in their beforeAll. */
function packagedOnce(make: () => PackagedStackView): () => PackagedStackView {
  let view: PackagedStackView | undefined;
  return () => (view ??= make());
}
const KMS_KEY_ARN = 'arn:aws:kms:ap-northeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const basicVariant = packagedOnce(() =>
  packageCiStack({
    capillaryAuth: 'basic',
    ssmKmsKeyArn: KMS_KEY_ARN,
    alarmEmail: 'ops@example.com',
    tagOwner: 'crm-team',
    tagCostCenter: 'cc-1234',
  }),
);
// No capillaryLineAccountId: each channel in the list names its own account.
const listVariant = packagedOnce(() =>
  packageCiStack(
    { capillaryBaseUrl: 'https://apac2.api.capillarytech.com', lineChannels: 'list', capillaryOrgs: 'list' },
    'multi',
  ),
);
const pathVariant = packagedOnce(() =>
  packageCiStack({ capillaryBaseUrl: 'https://apac2.api.capillarytech.com', lineChannels: 'path' }, 'multi'),
);

let stack: PackagedStackView;
let template: Json;
let resources: Json;

beforeAll(() => {
  stack = packageCiStack();
  ({ template, resources } = stack);
}, 300_000);

afterAll(() => {
  for (const stack of packaged) stack.dispose();
});

describe('SQS', () => {
  it('is a high-throughput FIFO queue with SSE and a FIFO dead-letter queue keeping messages 14 days', () => {
    const queue = resources.EventsQueue.Properties;
    expect(queue).toMatchObject({
      QueueName: `line-capillary-bridge-${STAGE}-events.fifo`,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(resources.EventsDeadLetterQueue.Properties).toMatchObject({
      QueueName: `line-capillary-bridge-${STAGE}-events-dlq.fifo`,
      FifoQueue: true,
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  it('gives engagement events a twin of the events queue, with its own FIFO dead-letter queue and the same redrive', () => {
    const { QueueName, RedrivePolicy, ...events } = resources.EventsQueue.Properties;
    expect(QueueName).toBe(`line-capillary-bridge-${STAGE}-events.fifo`);
    expect(resources.EngagementQueue.Properties).toEqual({
      ...events,
      QueueName: `line-capillary-bridge-${STAGE}-engagement.fifo`,
      RedrivePolicy: { ...RedrivePolicy, deadLetterTargetArn: { 'Fn::GetAtt': ['EngagementDeadLetterQueue', 'Arn'] } },
    });
    expect(resources.EngagementDeadLetterQueue.Properties).toEqual({
      ...resources.EventsDeadLetterQueue.Properties,
      QueueName: `line-capillary-bridge-${STAGE}-engagement-dlq.fifo`,
    });
  });

  it('hides a message for at least 6 worker timeouts, and a worker claim outlives the timeout but not the visibility', () => {
    const visibility = resources.EventsQueue.Properties.VisibilityTimeout as number;
    const workerTimeout = stack.functionNamed('Worker').Timeout as number;
    const claimTtl = Number(stack.environmentOf('Worker').CLAIM_TTL_SECONDS);
    expect(visibility).toBeGreaterThanOrEqual(6 * workerTimeout);
    expect(claimTtl).toBeGreaterThan(workerTimeout);
    expect(claimTtl).toBeLessThan(visibility);
  });

  it.each(['EventsQueue', 'EngagementQueue'])(
    'feeds the worker batches of 10 from %s with partial batch responses and a concurrency cap of its own',
    (queue) => {
      const [mapping, ...others] = Object.values(resources).filter(
        (resource: Json) =>
          resource.Type === 'AWS::Lambda::EventSourceMapping' &&
          resource.Properties.EventSourceArn['Fn::GetAtt'][0] === queue,
      ) as Json[];
      expect(others).toEqual([]);
      expect(mapping?.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(mapping?.Properties.ScalingConfig.MaximumConcurrency).toBe(2);
    },
  );
});

describe('DynamoDB', () => {
  it('keeps the user table on demand, recoverable, encrypted, with claim TTL, through stack removal', () => {
    const table = resources.UsersTable;
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.Properties).toEqual(
      expect.objectContaining({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
  });

  it('matches what the local pipeline creates from the same serverless.yml', () => {
    const local = loadLocalResources(STAGE);
    const { TableName, AttributeDefinitions, KeySchema, BillingMode, GlobalSecondaryIndexes } =
      resources.UsersTable.Properties;
    expect(local.tables).toEqual([{ TableName, AttributeDefinitions, KeySchema, BillingMode, GlobalSecondaryIndexes }]);
    const eventsQueue = local.queues.find((queue) => queue.logicalId === 'EventsQueue');
    expect(local.queues.map((queue) => [queue.logicalId, queue.name]).sort()).toEqual(
      [
        'EventsQueue',
        'EventsDeadLetterQueue',
        'EngagementQueue',
        'EngagementDeadLetterQueue',
        'BackfillQueue',
        'BackfillDeadLetterQueue',
        'InsightCheckFailureQueue',
      ]
        .map((id) => [id, resources[id].Properties.QueueName])
        .sort(),
    );
    expect(eventsQueue?.attributes.VisibilityTimeout).toBe(String(resources.EventsQueue.Properties.VisibilityTimeout));
    expect(JSON.parse(eventsQueue?.attributes.RedrivePolicy ?? '').maxReceiveCount).toBe(
      resources.EventsQueue.Properties.RedrivePolicy.maxReceiveCount,
    );
  });
});

describe('Lambda functions', () => {
  it.each(['Webhook', 'Worker', 'Backfill', 'InsightCheck', 'LinkApi', 'CapillaryNotifications'] as const)(
    '%s runs nodejs22.x on arm64 with its own role and a log group with retention',
    (name) => {
      expect(stack.functionNamed(name)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': [`${name}Role`, 'Arn'] },
      });
      expect(resources[`${name}LogGroup`].Properties.RetentionInDays).toBeGreaterThan(0);
    },
  );

  it('receive only SSM parameter names for secrets, never a secret value', () => {
    for (const name of [
      'Webhook',
      'Worker',
      'Backfill',
      'InsightCheck',
      'LinkApi',
      'CapillaryNotifications',
    ] as const) {
      for (const [variable, value] of Object.entries(stack.environmentOf(name))) {
        // Whole words of the name: POINTS_KEYWORD is a chat keyword, CAPILLARY_CLIENT_KEY_PARAM a secret's name.
        if (/(^|_)(SECRET|TOKEN|PASSWORD|USERNAME|KEY|CREDENTIALS)(_|$)/.test(variable)) {
          expect(variable).toMatch(/_PARAM$/);
          expect(value).toMatch(new RegExp(`^/line-capillary-bridge/${STAGE}/[a-z-]+$`));
        }
        expect(variable).not.toMatch(/^AWS_/);
        if (typeof value !== 'string') continue;
        // Long hex or base64 runs and JWTs look like credentials.
        expect(value).not.toMatch(/[0-9a-f]{32}|[A-Za-z0-9+/=]{40}|eyJ[\w-]+\./i);
      }
    }
    for (const secret of LOCAL_SECRETS) expect(JSON.stringify(template)).not.toContain(secret);
  });

  it('get the environment contract', () => {
    expect(Object.keys(stack.environmentOf('Webhook')).sort()).toEqual([
      'CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD',
      'ENGAGEMENT_QUEUE_URL',
      'LINE_CHANNEL_SECRET_PARAM',
      'LINE_ENGAGEMENT_EVENTS',
      'LINE_EXPECTED_DESTINATIONS',
      'POINTS_KEYWORD',
      'POINTS_POSTBACK_DATA',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'QUEUE_URL',
    ]);
    expect(stack.environmentOf('Webhook')).toMatchObject({
      QUEUE_URL: { Ref: 'EventsQueue' },
      ENGAGEMENT_QUEUE_URL: { Ref: 'EngagementQueue' },
    });
    // The webhook routes by the worker's own settings: the same rules, customer field and points triggers.
    for (const name of [
      'LINE_ENGAGEMENT_EVENTS',
      'CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD',
      'POINTS_POSTBACK_DATA',
      'POINTS_KEYWORD',
    ])
      expect(stack.environmentOf('Webhook')[name]).toBe(stack.environmentOf('Worker')[name]);
    expect(stack.environmentOf('Worker')).toMatchObject({
      TABLE_NAME: { Ref: 'UsersTable' },
      LINE_CHANNEL_ACCESS_TOKEN_PARAM: `/line-capillary-bridge/${STAGE}/line-channel-access-token`,
      CAPILLARY_CLIENT_KEY_PARAM: `/line-capillary-bridge/${STAGE}/capillary-client-key`,
      CAPILLARY_CLIENT_SECRET_PARAM: `/line-capillary-bridge/${STAGE}/capillary-client-secret`,
      CAPILLARY_SUBSCRIPTION_CHANNEL: 'LINE',
      CAPILLARY_ORG_UNIT_ID: '-1',
      CAPILLARY_REGISTRATION_MODE: 'instore+line',
      CAPILLARY_EXTERNAL_ID_PREFIX: 'line_',
      CAPILLARY_RATE_LIMIT_RPM: '100',
      LINE_API_BASE_URL: 'https://api.line.me',
      POWERTOOLS_SERVICE_NAME: 'line-capillary-bridge',
    });
    expect(stack.environmentOf('Worker')).toHaveProperty('CAPILLARY_BASE_URL');
    expect(stack.environmentOf('Worker')).toHaveProperty('CAPILLARY_LINE_ACCOUNT_ID');
  });

  it('give the worker what asks for the member card: the postback data, and the keyword (empty: off)', () => {
    expect(stack.environmentOf('Worker')).toMatchObject({ POINTS_POSTBACK_DATA: 'action=points', POINTS_KEYWORD: '' });
  });

  it('give the worker alone the engagement settings: its own rate limit and the credentials parameter name', () => {
    expect(stack.environmentOf('Worker')).toMatchObject({
      CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS_PARAM: `/line-capillary-bridge/${STAGE}/capillary-behavioural-events-credentials`,
      CAPILLARY_BEHAVIOURAL_EVENTS_TIMEZONE: 'UTC',
      CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD: 'customer_id',
      CAPILLARY_BEHAVIOURAL_EVENTS_RATE_LIMIT_RPM: '100',
    });
    const backfill = Object.keys(stack.environmentOf('Backfill'));
    expect(backfill.filter((name) => /ENGAGEMENT|BEHAVIOURAL/.test(name))).toEqual([]);
  });
});

describe('IAM', () => {
  it('allows no wildcard action or resource anywhere', () => {
    const allowStatements = Object.values(resources).flatMap((resource: Json) => {
      const properties = resource.Properties ?? {};
      const documents = [
        properties.PolicyDocument,
        ...((properties.Policies ?? []) as Json[]).map((policy) => policy.PolicyDocument),
      ];
      return documents
        .filter(Boolean)
        .flatMap(statementsOf)
        .filter((statement) => statement.Effect === 'Allow');
    });
    expect(allowStatements.length).toBeGreaterThan(0);
    for (const statement of allowStatements) {
      for (const action of asList(statement.Action)) expect(action).not.toContain('*');
      expect(JSON.stringify(statement.Resource ?? '*')).not.toContain('*');
    }
  });

  it('gives the shared serverless role to nobody: each function has a dedicated role', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('lets the webhook only enqueue on both queues, read its own secret and write its own logs', () => {
    const statements = stack.roleStatements('Webhook');
    expect(actionsOf(statements)).toEqual(
      new Set(['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage', 'ssm:GetParameter']),
    );
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([
      [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['EngagementQueue', 'Arn'] }],
    ]);
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([ssmParameter('line-channel-secret')]);
    expect(resourcesFor(statements, 'logs:PutLogEvents')).toEqual([{ 'Fn::GetAtt': ['WebhookLogGroup', 'Arn'] }]);
  });

  it('lets the worker only consume both queues (it sends nothing), use its table, read its own secrets and write its own logs', () => {
    const statements = stack.roleStatements('Worker');
    expect(actionsOf(statements)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ChangeMessageVisibility',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'ssm:GetParameter',
      ]),
    );
    const deletes = statements.find((statement) => asList(statement.Action).includes('dynamodb:DeleteItem'));
    expect(deletes?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['linkref#?*'] } });
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'])
      expect(resourcesFor(statements, action)).toEqual([
        [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['EngagementQueue', 'Arn'] }],
      ]);
    expect(stack.environmentOf('Worker').QUEUE_URL).toBeUndefined();
    expect(resourcesFor(statements, 'dynamodb:UpdateItem')).toEqual([{ 'Fn::GetAtt': ['UsersTable', 'Arn'] }]);
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([
      ssmParameter('line-channel-access-token'),
      [ssmParameter('capillary-client-key'), ssmParameter('capillary-client-secret')],
      ssmParameter('capillary-behavioural-events-credentials'),
    ]);
  });

  it('lets the backfill only run from its tick queue, hand events to the pipeline and DLQ, use the table without Scan, read its secrets', () => {
    const statements = stack.roleStatements('Backfill');
    expect(actionsOf(statements)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ChangeMessageVisibility',
        'sqs:SendMessage',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'ssm:GetParameter',
      ]),
    );
    expect(resourcesFor(statements, 'sqs:ReceiveMessage')).toEqual([{ 'Fn::GetAtt': ['BackfillQueue', 'Arn'] }]);
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([
      { 'Fn::GetAtt': ['BackfillQueue', 'Arn'] },
      [{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }],
    ]);
    expect(resourcesFor(statements, 'dynamodb:UpdateItem')).toEqual([{ 'Fn::GetAtt': ['UsersTable', 'Arn'] }]);
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([
      ssmParameter('line-channel-access-token'),
      [ssmParameter('capillary-client-key'), ssmParameter('capillary-client-secret')],
    ]);
  });

  it('lets the daily insight check only scan the table, read the channel token, record a failed run and write its logs', () => {
    const statements = stack.roleStatements('InsightCheck');
    expect(actionsOf(statements)).toEqual(
      new Set(['logs:CreateLogStream', 'logs:PutLogEvents', 'dynamodb:Scan', 'ssm:GetParameter', 'sqs:SendMessage']),
    );
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([
      { 'Fn::GetAtt': ['InsightCheckFailureQueue', 'Arn'] },
    ]);
    expect(resourcesFor(statements, 'dynamodb:Scan')).toEqual([{ 'Fn::GetAtt': ['UsersTable', 'Arn'] }]);
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([ssmParameter('line-channel-access-token')]);
  });

  it('lets the link API only enqueue, read and write link items (never a user record), read its own secrets and write its own logs', () => {
    const statements = stack.roleStatements('LinkApi');
    expect(actionsOf(statements)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'ssm:GetParameter',
      ]),
    );
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }]);
    const dynamo = statements.find((statement) => asList(statement.Action).includes('dynamodb:PutItem'));
    expect(dynamo?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['linktoken#?*', 'nonce#?*', 'linkref#?*', 'idtoken#?*'] },
    });
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([
      ssmParameter('link-api-token'),
      ssmParameter('line-channel-access-token'),
    ]);
    expect(stack.environmentOf('LinkApi')).toMatchObject({
      QUEUE_URL: { Ref: 'EventsQueue' },
      TABLE_NAME: { Ref: 'UsersTable' },
      LINK_API_TOKEN_PARAM: `/line-capillary-bridge/${STAGE}/link-api-token`,
    });
  });

  it('lets the notifications function only query the customer index, read and write its de-duplication items, enqueue, read its token and write its logs', () => {
    const statements = stack.roleStatements('CapillaryNotifications');
    expect(actionsOf(statements)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'ssm:GetParameter',
      ]),
    );
    expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([{ 'Fn::GetAtt': ['EventsQueue', 'Arn'] }]);
    expect(resourcesFor(statements, 'dynamodb:Query')).toEqual([
      [
        { 'Fn::Sub': '${UsersTable.Arn}/index/byCustomer' },
        { 'Fn::Sub': '${UsersTable.Arn}/index/byMember' },
        { 'Fn::Sub': '${UsersTable.Arn}/index/byReplaced' },
      ],
    ]);
    const items = statements.find((statement) => asList(statement.Action).includes('dynamodb:PutItem'));
    expect(items?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notif#?*'] } });
    expect(resourcesFor(statements, 'ssm:GetParameter')).toEqual([ssmParameter('capillary-notifications-token')]);
    expect(stack.environmentOf('CapillaryNotifications')).toMatchObject({
      QUEUE_URL: { Ref: 'EventsQueue' },
      TABLE_NAME: { Ref: 'UsersTable' },
      CAPILLARY_NOTIFICATIONS_TOKEN_PARAM: `/line-capillary-bridge/${STAGE}/capillary-notifications-token`,
    });
  });

  it('grants kms:Decrypt only for a customer-managed SSM key, and only through SSM', () => {
    expect(template.Parameters.SsmKmsKeyArn.Default).toBe('');
    expect(template.Conditions.HasCustomerManagedSsmKey).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SsmKmsKeyArn' }, ''] }],
    });
    for (const name of ['Webhook', 'Worker', 'Backfill', 'InsightCheck', 'LinkApi'] as const)
      expect(actionsOf(stack.roleStatements(name))).not.toContain('kms:Decrypt');
    for (const role of [
      'WebhookRole',
      'WorkerRole',
      'BackfillRole',
      'InsightCheckRole',
      'LinkApiRole',
      'CapillaryNotificationsRole',
    ]) {
      const conditional = (resources[role].Properties.Policies[0].PolicyDocument.Statement as Json[]).find(
        (s) => s['Fn::If']?.[0] === 'HasCustomerManagedSsmKey',
      );
      expect(conditional?.['Fn::If'][0]).toBe('HasCustomerManagedSsmKey');
      expect(conditional?.['Fn::If'][1]).toMatchObject({
        Resource: { Ref: 'SsmKmsKeyArn' },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } },
      });
    }
  });
});

describe('HTTP API', () => {
  it('routes POST /line/webhook (channel default) and POST /line/webhook/{channel} to the webhook as a payload 2.0 Lambda proxy, throttled', () => {
    const routes = Object.values(resources).filter(
      (resource: Json) => resource.Type === 'AWS::ApiGatewayV2::Route',
    ) as Json[];
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      'POST /capillary/notifications',
      'POST /capillary/notifications/{org}',
      'POST /line/link/id-token',
      'POST /line/link/nonce',
      'POST /line/link/unlink',
      'POST /line/webhook',
      'POST /line/webhook/{channel}',
    ]);
    const webhookRoutes = routes.filter((route) => route.Properties.RouteKey.startsWith('POST /line/webhook'));
    expect(new Set(webhookRoutes.map((route) => JSON.stringify(route.Properties.Target))).size).toBe(1);
    expect(resources.HttpApiIntegrationWebhook.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': ['WebhookLambdaFunction', 'Arn'] },
    });
    const throttling = resources.HttpApiStage.Properties.DefaultRouteSettings;
    expect(throttling.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(throttling.ThrottlingBurstLimit).toBeGreaterThan(0);
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(resources)
      .filter((resource: Json) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map((alarm: Json) => alarm.Properties as Json);
  const alarmOn = (namespace: string, metricName: string, queue?: string) => {
    const matching = alarms().filter(
      (alarm) =>
        alarm.Namespace === namespace &&
        alarm.MetricName === metricName &&
        (queue === undefined || alarm.Dimensions[0].Value['Fn::GetAtt']?.[0] === queue),
    );
    expect(matching).toHaveLength(1);
    return matching[0] as Json;
  };
  const httpApiStage = [
    { Name: 'ApiId', Value: { Ref: 'HttpApi' } },
    { Name: 'Stage', Value: '$default' },
  ];

  it('notify the alarm topic, which mails alarmEmail only when it is set', () => {
    expect(alarms()).toHaveLength(13);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    expect(resources.AlarmEmailSubscription).toMatchObject({
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email' },
    });
    expect(resources.HttpApiStage.Properties.StageName).toBe('$default');
  });

  it('watch the DLQ, the age of the oldest event, worker errors, signature failures and webhook 4xx/5xx', () => {
    expect(alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'EventsDeadLetterQueue')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
    });
    expect(alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage', 'EventsQueue')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EventsQueue', 'QueueName'] } }],
    });
    // The engagement queue and its DLQ alike: a burst of taps waits there, never on the events queue.
    const eventsAge = alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage', 'EventsQueue');
    expect(alarmOn('AWS/SQS', 'ApproximateAgeOfOldestMessage', 'EngagementQueue')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['EngagementQueue', 'QueueName'] } }],
      Threshold: eventsAge.Threshold,
    });
    expect(alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'EngagementDeadLetterQueue')).toMatchObject({
      AlarmName: `line-capillary-bridge-${STAGE}-engagement-dead-letter-queue`,
      AlarmDescription: expect.stringContaining('npm run redrive -- --queue engagement'),
      Threshold: 0,
    });
    expect(alarmOn('AWS/Lambda', 'Errors')).toMatchObject({
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }],
      Threshold: 0,
    });
    // The webhook publishes SignatureInvalid through Powertools: its namespace, its service dimension and the channel.
    // One time series per channel (GROUP BY channel): the alarm's contributors name the channel whose secret fails.
    const webhook = stack.environmentOf('Webhook');
    const [signatures, ...others] = alarms().filter((alarm) =>
      JSON.stringify(alarm.Metrics ?? []).includes('SignatureInvalid'),
    );
    expect(others).toEqual([]);
    expect(signatures).toMatchObject({
      AlarmName: `line-capillary-bridge-${STAGE}-signature-failures`,
      Threshold: 5,
      Metrics: [
        {
          Expression: `SELECT SUM(SignatureInvalid) FROM SCHEMA("${webhook.POWERTOOLS_METRICS_NAMESPACE}", channel, service) WHERE service = '${webhook.POWERTOOLS_SERVICE_NAME}' GROUP BY channel`,
          Period: 300,
          ReturnData: true,
        },
      ],
    });
    expect(signatures).not.toHaveProperty('Period'); // a query alarm takes its period from the query only
    expect(webhook.POWERTOOLS_METRICS_NAMESPACE).toBe('LineCapillaryBridge');
    // The worker counts a nonce used by another LINE user than its link token's (docs/operations.md#linking).
    expect(alarmOn('LineCapillaryBridge', 'LinkImpersonation')).toMatchObject({
      Dimensions: [{ Name: 'service', Value: 'line-capillary-bridge' }],
      Threshold: 0,
    });
    expect(alarmOn('AWS/ApiGateway', '5xx')).toMatchObject({ Dimensions: httpApiStage, Threshold: 0 });
    expect(alarmOn('AWS/ApiGateway', '4xx')).toMatchObject({ Dimensions: httpApiStage });
  });
});

describe('backfill and drift alarms', () => {
  const alarm = (logicalId: string) => resources[logicalId].Properties as Json;

  it('runs the backfill one tick at a time from its own queue, whose visibility outlasts 6 invocations', () => {
    const [mapping] = Object.values(resources).filter(
      (resource: Json) =>
        resource.Type === 'AWS::Lambda::EventSourceMapping' &&
        resource.Properties.EventSourceArn['Fn::GetAtt'][0] === 'BackfillQueue',
    ) as Json[];
    expect(mapping?.Properties).toMatchObject({
      FunctionName: { 'Fn::GetAtt': ['BackfillLambdaFunction', 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(resources.BackfillQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (stack.functionNamed('Backfill').Timeout as number),
    );
    expect(resources.BackfillQueue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({
      'Fn::GetAtt': ['BackfillDeadLetterQueue', 'Arn'],
    });
    expect(stack.environmentOf('Backfill')).toMatchObject({
      QUEUE_URL: { Ref: 'EventsQueue' },
      DEAD_LETTER_QUEUE_URL: { Ref: 'EventsDeadLetterQueue' },
      BACKFILL_QUEUE_URL: { Ref: 'BackfillQueue' },
      BACKFILL_BATCH_SIZE: '10',
      CAPILLARY_BULK_COUNTS_AS: 'record',
      BACKFILL_RATE_SHARE_PERCENT: '50',
    });
  });

  it('alarms on a stalled backfill and on a daily follower-count drift above the threshold', () => {
    expect(alarm('BackfillDeadLetterQueueAlarm')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['BackfillDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
    });
    expect(alarm('FollowerDriftAlarm')).toMatchObject({
      Namespace: 'LineCapillaryBridge',
      MetricName: 'FollowerCountDriftPercent',
      Dimensions: [{ Name: 'service', Value: 'line-capillary-bridge' }],
      Statistic: 'Maximum',
      Period: 86400,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    const schedule = Object.values(resources).find((resource: Json) => resource.Type === 'AWS::Events::Rule') as Json;
    expect(schedule.Properties.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    expect(schedule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['InsightCheckLambdaFunction', 'Arn'] });
  });
});

describe('outputs', () => {
  it('give the webhook URL for the LINE console, the queues, the table and the alarm topic', () => {
    expect(template.Outputs).toMatchObject({
      WebhookUrl: { Value: { 'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/line/webhook' } },
      ChannelWebhookUrl: {
        Value: { 'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/line/webhook/{channel}' },
      },
      QueueUrl: { Value: { Ref: 'EventsQueue' } },
      DeadLetterQueueUrl: { Value: { Ref: 'EventsDeadLetterQueue' } },
      EngagementQueueUrl: { Value: { Ref: 'EngagementQueue' } },
      EngagementDeadLetterQueueUrl: { Value: { Ref: 'EngagementDeadLetterQueue' } },
      UsersTableName: { Value: { Ref: 'UsersTable' } },
      AlarmTopicArn: { Value: { Ref: 'AlarmTopic' } },
    });
  });
});

describe('dashboard', () => {
  /** The body with every CloudFormation reference replaced by its name, and the references it makes. */
  const dashboard = () => {
    const sub = resources.Dashboard.Properties.DashboardBody['Fn::Sub'] as string;
    const references = [...new Set([...sub.matchAll(/\$\{([^}]+)\}/g)].map((match) => match[1] as string))];
    return { body: JSON.parse(sub.replace(/\$\{([^}]+)\}/g, '<$1>')) as Json, references };
  };
  /** Every metric name lib/ publishes: the quoted PascalCase names in the first argument of addMetric and of telemetry.ts's counters. */
  const publishedMetrics = () => {
    const sources = readdirSync(path.join(PROJECT_ROOT, 'lib'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(path.join(PROJECT_ROOT, 'lib', file), 'utf8'))
      .join('\n');
    const firstArguments = [
      ...sources.matchAll(/(?:addMetric\(([^)]*?), MetricUnit|countForChannel\(([^)]*?), (?:channel|\w+\.id)\b)/g),
    ].map((match) => (match[1] ?? match[2]) as string);
    return [
      ...new Set(
        firstArguments.flatMap((argument) =>
          [...argument.matchAll(/'([A-Z][A-Za-z]+)'/g)].map((match) => match[1] as string),
        ),
      ),
    ].sort();
  };
  const searchedMetrics = (body: Json) => {
    const expressions = JSON.stringify(body).match(/MetricName=\\"[A-Za-z]+/g) ?? [];
    return [...new Set(expressions.map((term) => term.split('"')[1] as string))].sort();
  };

  it('is one dashboard per stage whose references all name resources of this stack', () => {
    const { references } = dashboard();

    expect(resources.Dashboard.Properties.DashboardName).toBe(`line-capillary-bridge-${STAGE}`);
    for (const reference of references.filter((name) => !name.startsWith('AWS::')))
      expect(Object.keys(resources)).toContain(reference.split('.')[0]);
    expect(references).toEqual(
      expect.arrayContaining([
        'EventsQueue.QueueName',
        'EventsDeadLetterQueue.QueueName',
        'WorkerLambdaFunction',
        'HttpApi',
      ]),
    );
  });

  it('draws every metric the bridge publishes, and only those, found by SEARCH so per-channel dimensions appear too', () => {
    const { body } = dashboard();

    expect(publishedMetrics()).toEqual(
      expect.arrayContaining([
        'CapillaryError',
        'CapillaryLatency',
        'EnqueueFailed',
        'EventApplied',
        'SignatureInvalid',
      ]),
    );
    expect(searchedMetrics(body)).toEqual(publishedMetrics());
    expect(JSON.stringify(body)).toContain('service=\\"line-capillary-bridge\\"');
  });

  it("draws the queued events from SQS's own count for the events queue (the webhook publishes nothing on success)", () => {
    const events = (dashboard().body.widgets as Json[]).find((widget) =>
      widget.properties.title?.startsWith('Events'),
    )?.properties;
    expect(events.metrics[0]).toEqual([
      'AWS/SQS',
      'NumberOfMessagesSent',
      'QueueName',
      '<EventsQueue.QueueName>',
      { label: 'queued (webhook and link API, all channels)' },
    ]);
    expect(events.stat).toBe('Sum');
  });

  it('shows every alarm, the queue age and DLQ depth, and the worker against its timeout', () => {
    const { body } = dashboard();
    const widgets = body.widgets as Json[];
    const alarmNames = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::CloudWatch::Alarm');

    expect(widgets.find((widget) => widget.type === 'alarm')?.properties.alarms.sort()).toEqual(
      alarmNames.map((name) => `<${name}.Arn>`).sort(),
    );
    const queue = widgets.find((widget) => widget.properties.title?.startsWith('Queue'))?.properties;
    expect(queue.metrics).toEqual([
      [
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        'QueueName',
        '<EventsQueue.QueueName>',
        { label: 'oldest queued event (s)' },
      ],
      ['.', '.', '.', '<EngagementQueue.QueueName>', { label: 'oldest queued engagement event (s)' }],
      [
        '.',
        'ApproximateNumberOfMessagesVisible',
        '.',
        '<EventsDeadLetterQueue.QueueName>',
        { label: 'in the DLQ', yAxis: 'right' },
      ],
      ['.', '.', '.', '<EngagementDeadLetterQueue.QueueName>', { label: 'in the engagement DLQ', yAxis: 'right' }],
    ]);
    expect(queue.annotations.horizontal[0].value).toBe(resources.QueueAgeAlarm.Properties.Threshold);
    const duration = widgets.find((widget) => widget.properties.title?.startsWith('Worker duration'))?.properties;
    expect(duration.annotations.horizontal[0].value).toBe(stack.functionNamed('Worker').Timeout * 1000);
  });

  it('has its console URL as a stack output', () => {
    expect(template.Outputs.DashboardUrl.Value).toEqual({
      'Fn::Sub':
        'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards/dashboard/${Dashboard}',
    });
  });
});

describe('bundles', () => {
  const bundleOf = (name: 'webhook' | 'worker') => {
    const entries = stack.packaged.bundleOf(name);
    expect([...entries.keys()]).toEqual([`functions/${name}.js`]);
    return (entries.get(`functions/${name}.js`) as Buffer).toString('utf8');
  };
  /** Left to the nodejs22.x runtime: the SSM client, and what the SDK loads only past the environment credentials. */
  const RUNTIME_MODULES = [
    '@aws-sdk/client-ssm',
    '@aws-sdk/credential-provider-http',
    '@aws-sdk/credential-provider-ini',
    '@aws-sdk/credential-provider-process',
    '@aws-sdk/credential-provider-sso',
    '@aws-sdk/credential-provider-web-identity',
    '@smithy/core/event-streams',
    '@smithy/credential-provider-imds',
  ];
  // String literals survive minification: the DynamoDB protocol's target prefix, Capillary's and LINE's API paths.
  const WORKER_ONLY_MARKERS = ['DynamoDB_20120810', '/v2/customers', '/v3/oauth/token', '/v2/bot/profile'];

  it("are single minified CommonJS files that need only Node built-ins and the runtime's SSM client", () => {
    for (const name of ['webhook', 'worker'] as const) {
      const code = bundleOf(name);
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1] as string);
      // The SDK probes for the optional CRT signer inside a try/catch; the SSM client comes from the nodejs22.x
      // runtime on the first invocation (it reads the secrets once per container); the rest only if ever reached
      // (serverless.yml, esbuild exclude).
      const external = required.filter(
        (id) => !id.startsWith('node:') && !builtinModules.includes(id) && id !== '@aws-sdk/signature-v4-crt',
      );
      expect([...new Set(external)].sort()).toEqual([...RUNTIME_MODULES].sort());
      expect(code).not.toContain('AmazonSSM'); // the SSM client's service id: its code is not in the bundle
      expect(code).not.toContain('sourceMappingURL');
      expect(code.length / code.split('\n').length).toBeGreaterThan(500);
    }
  });

  it("enqueue a signed request from a folder without node_modules, with the role's keys in the environment as Lambda sets them", async () => {
    // Prepare: the webhook bundle alone, as Lambda unzips it (no SDK beside it), and a queue on the local SQS server
    const dir = mkdtempSync(path.join(tmpdir(), 'webhook-bundle-'));
    writeFileSync(path.join(dir, 'webhook.js'), bundleOf('webhook'));
    const sqs = createSqsClient();
    const { queueUrl } = await createFifoQueue(sqs);
    const request = signedWebhookRequest(callbackBody([followEvent(lineUserId(), 1)]));
    // Exits once answered: the SDK's keep-alive sockets would hold the process open.
    const invoke =
      "require(process.argv[1]).handler(JSON.parse(process.argv[2]), { awsRequestId: 'r1' }).then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); })";
    try {
      // Act: asynchronously, since the SQS server may run in this process
      const child = await execFileAsync(
        process.execPath,
        ['-e', invoke, path.join(dir, 'webhook.js'), JSON.stringify(request)],
        {
          encoding: 'utf8',
          timeout: 30_000,
          env: {
            LINE_CHANNEL_SECRET: LOCAL_CHANNEL_SECRET,
            QUEUE_URL: queueUrl,
            AWS_ENDPOINT_URL_SQS: process.env.AWS_ENDPOINT_URL_SQS,
            AWS_REGION: 'ap-northeast-1',
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_SESSION_TOKEN: 'local',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
          },
        },
      );
      // Assess
      expect(JSON.parse(child.stdout)).toMatchObject({ statusCode: 200, body: JSON.stringify({ enqueued: 1 }) });
      expect(await receiveAll(sqs, queueUrl)).toHaveLength(1);
    } finally {
      sqs.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keep the worker's DynamoDB, Capillary and LINE profile code out of the webhook", () => {
    const webhook = bundleOf('webhook');
    const worker = bundleOf('worker');
    for (const marker of WORKER_ONLY_MARKERS) {
      expect(worker).toContain(marker);
      expect(webhook).not.toContain(marker);
    }
    const zipBytes = readFileSync(path.join(stack.dir, 'webhook.zip')).length;
    console.log(
      `webhook bundle: ${(webhook.length / 1024).toFixed(0)} KiB of JavaScript, ${(zipBytes / 1024).toFixed(0)} KiB zipped`,
    );
  });
});

describe('with Basic auth, a customer-managed SSM key and an alarm e-mail', () => {
  const kmsKeyArn = KMS_KEY_ARN;
  let variant: PackagedStackView;

  beforeAll(() => {
    variant = basicVariant();
  }, 300_000);

  it('gives the worker the Basic credential parameter names and read access to exactly those', () => {
    const environment = variant.environmentOf('Worker');
    expect(environment).toMatchObject({
      CAPILLARY_USERNAME_PARAM: `/line-capillary-bridge/${STAGE}/capillary-username`,
      CAPILLARY_PASSWORD_PARAM: `/line-capillary-bridge/${STAGE}/capillary-password`,
    });
    expect(Object.keys(environment).filter((name) => name.startsWith('CAPILLARY_CLIENT_'))).toEqual([]);
    expect(resourcesFor(variant.roleStatements('Worker'), 'ssm:GetParameter')).toEqual([
      ssmParameter('line-channel-access-token'),
      [ssmParameter('capillary-username'), ssmParameter('capillary-password')],
      ssmParameter('capillary-behavioural-events-credentials'),
    ]);
  });

  it('lets both functions decrypt with that key only, and mails the alarms', () => {
    for (const name of ['Webhook', 'Worker', 'LinkApi'] as const)
      expect(resourcesFor(variant.roleStatements(name), 'kms:Decrypt')).toEqual([kmsKeyArn]);
    expect(variant.template.Parameters).toMatchObject({
      AlarmEmail: { Default: 'ops@example.com' },
      SsmKmsKeyArn: { Default: kmsKeyArn },
    });
    expect(variant.deployed.AlarmEmailSubscription.Properties.Endpoint).toBe('ops@example.com');
  });
});

describe('with a LINE channel list and other Capillary orgs', () => {
  let variant: PackagedStackView;

  beforeAll(() => {
    variant = listVariant();
  }, 300_000);
  const multiParameter = (secret: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/line-capillary-bridge/multi/${secret}`,
  });

  it('gives both functions the channel list parameter instead of the single-channel variables', () => {
    expect(Object.keys(variant.environmentOf('Webhook')).sort()).toEqual([
      'CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD',
      'ENGAGEMENT_QUEUE_URL',
      'LINE_CHANNELS_PARAM',
      'LINE_ENGAGEMENT_EVENTS',
      'POINTS_KEYWORD',
      'POINTS_POSTBACK_DATA',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'QUEUE_URL',
    ]);
    const worker = variant.environmentOf('Worker');
    expect(worker).toMatchObject({
      LINE_CHANNELS_PARAM: '/line-capillary-bridge/multi/line-channels',
      CAPILLARY_ORGS_PARAM: '/line-capillary-bridge/multi/capillary-orgs',
    });
    for (const single of ['LINE_CHANNEL_ACCESS_TOKEN_PARAM', 'CAPILLARY_LINE_ACCOUNT_ID', 'LINE_CHANNEL_SECRET_PARAM'])
      expect(worker).not.toHaveProperty(single);
  });

  it('lets each function read exactly the parameters it is given', () => {
    expect(resourcesFor(variant.roleStatements('Webhook'), 'ssm:GetParameter')).toEqual([
      multiParameter('line-channels'),
    ]);
    expect(resourcesFor(variant.roleStatements('Worker'), 'ssm:GetParameter')).toEqual([
      multiParameter('line-channels'),
      [
        multiParameter('capillary-client-key'),
        multiParameter('capillary-client-secret'),
        multiParameter('capillary-orgs'),
      ],
      multiParameter('capillary-behavioural-events-credentials'),
    ]);
  });
});

describe('with one SSM parameter per channel under a path', () => {
  let variant: PackagedStackView;

  beforeAll(() => {
    variant = pathVariant();
  }, 300_000);

  it('gives both functions the path and GetParametersByPath on exactly that path, and no single-channel parameter', () => {
    const path = '/line-capillary-bridge/multi/line-channels';
    const pathArn = { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${path}` };
    for (const name of ['Webhook', 'Worker'] as const) {
      const environment = variant.environmentOf(name);
      expect(environment.LINE_CHANNELS_PATH).toBe(path);
      expect(
        Object.keys(environment).filter((key) => key.startsWith('LINE_CHANNEL') && key !== 'LINE_CHANNELS_PATH'),
      ).toEqual([]);
      expect(resourcesFor(variant.roleStatements(name), 'ssm:GetParametersByPath')).toEqual([pathArn]);
    }
    expect(resourcesFor(variant.roleStatements('Webhook'), 'ssm:GetParameter')).toEqual([]);
    expect(JSON.stringify(resourcesFor(variant.roleStatements('Worker'), 'ssm:GetParameter'))).not.toContain(
      'line-channel',
    );
  });
});

describe('a misspelt lineChannels value', () => {
  it('fails to package instead of meaning single', () => {
    expect(() => packageCiStack({ lineChannels: 'lists' })).toThrow(
      'lineChannels "lists" (--param lineChannels) must be one of single, list, path',
    );
  });
});

describe('every stage invokable with `sls invoke local`', () => {
  beforeAll(() => {
    listVariant();
    pathVariant();
  }, 600_000);

  it.each([
    ['a single channel', () => stack],
    ['a channel list', listVariant],
    ['a channel path', pathVariant],
  ])(
    'with %s, gives each function only values and Refs to this stack (what invoke local resolves), no Fn::If',
    (_mode, view) => {
      const { resources: packagedResources } = view();
      for (const name of ['Webhook', 'Worker', 'Backfill', 'InsightCheck', 'LinkApi'] as const) {
        const variables = packagedResources[`${name}LambdaFunction`].Properties.Environment.Variables as Json;
        for (const value of Object.values(variables)) {
          if (typeof value === 'string') continue;
          expect(Object.keys(value as Json)).toEqual(['Ref']);
          expect(Object.keys(packagedResources)).toContain((value as Json).Ref);
        }
      }
    },
  );
});

describe('HTTP API access logs', () => {
  it('go to their own log group with retention, one JSON line per request without any LINE id', () => {
    expect(resources.HttpApiLogGroup.Properties.RetentionInDays).toBe(30);
    const { AccessLogSettings } = resources.HttpApiStage.Properties;
    expect(AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
    const format = AccessLogSettings.Format as string;
    expect(format).not.toContain('\n');
    expect(Object.keys(JSON.parse(format) as Json)).toEqual([
      'requestId',
      'requestTime',
      'ip',
      'userAgent',
      'routeKey',
      'status',
      'protocol',
      'responseLength',
      'responseLatency',
      'integrationStatus',
      'integrationLatency',
      'error',
      'integrationError',
    ]);
    // The route key is the template (/line/webhook/{channel}); the path, query string, headers and body never appear.
    for (const variable of ['$context.path', '$context.rawPath', 'querystring', '$input', '$request', 'header'])
      expect(format.toLowerCase()).not.toContain(variable.toLowerCase());
  });
});

describe('stack tags', () => {
  const stackTagsOf = (view: PackagedStackView) =>
    (JSON.parse(readFileSync(path.join(view.dir, 'serverless-state.json'), 'utf8')) as Json).service.provider
      .stackTags as Json;

  beforeAll(() => {
    basicVariant();
  }, 300_000);

  it('name the application and stage, with an owner and cost center a stage sets with --param', () => {
    expect(stackTagsOf(stack)).toEqual({
      Application: 'line-capillary-bridge',
      Stage: STAGE,
      Owner: 'unassigned',
      CostCenter: 'unassigned',
    });
    expect(stackTagsOf(basicVariant())).toMatchObject({ Owner: 'crm-team', CostCenter: 'cc-1234' });
  });
});

describe('TLS only', () => {
  const tlsDenials = (type: string) =>
    Object.values(resources)
      .filter((resource: Json) => resource.Type === type)
      .flatMap((policy: Json) => statementsOf(policy.Properties.PolicyDocument))
      .filter(
        (statement) => statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );

  it('every queue and dead-letter queue refuses any request that is not over TLS', () => {
    const queues = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    const denials = tlsDenials('AWS::SQS::QueuePolicy');
    for (const queue of queues) {
      const denial = denials.find((statement) =>
        asList(statement.Resource).some(
          (arn) => JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }),
        ),
      );
      expect(denial).toMatchObject({ Action: 'sqs:*', Principal: '*' });
      const policy = Object.values(resources).find(
        (resource: Json) =>
          resource.Type === 'AWS::SQS::QueuePolicy' &&
          (resource.Properties.Queues as Json[]).some((ref) => ref.Ref === queue),
      );
      expect(policy).toBeDefined();
    }
  });

  it('the alarm topic refuses publishing without TLS, and takes the alarms of this account only', () => {
    const [policy] = Object.values(resources).filter((resource: Json) => resource.Type === 'AWS::SNS::TopicPolicy');
    expect(policy?.Properties.Topics).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(tlsDenials('AWS::SNS::TopicPolicy')).toEqual([
      expect.objectContaining({ Action: 'sns:Publish', Principal: '*', Resource: { Ref: 'AlarmTopic' } }),
    ]);
    const allows = statementsOf(policy?.Properties.PolicyDocument).filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
  });
});

describe('scheduled functions', () => {
  it('record a run that failed every attempt on an alarmed failure queue', () => {
    const scheduled = Object.values(resources)
      .filter((resource: Json) => resource.Type === 'AWS::Events::Rule')
      .flatMap((rule: Json) => (rule.Properties.Targets as Json[]).map((target) => target.Arn['Fn::GetAtt'][0]));
    expect(scheduled).toEqual(['InsightCheckLambdaFunction']);
    for (const functionId of scheduled) {
      const invokeConfig = Object.values(resources).find(
        (resource: Json) =>
          resource.Type === 'AWS::Lambda::EventInvokeConfig' && resource.Properties.FunctionName.Ref === functionId,
      );
      const destination = invokeConfig?.Properties.DestinationConfig.OnFailure.Destination as Json;
      const [queue] = destination['Fn::GetAtt'] as string[];
      expect(resources[queue!].Type).toBe('AWS::SQS::Queue');
      const alarm = Object.values(resources).find(
        (resource: Json) =>
          resource.Type === 'AWS::CloudWatch::Alarm' &&
          JSON.stringify(resource.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]),
      );
      expect(alarm?.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });
});

describe("AWS's CloudFormation linter", () => {
  // Optional tooling (pip install cfn-lint): CI installs nothing for it, so without it this is one skipped test.
  const installed = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!installed)
    process.stderr.write('cfn-lint is not installed: the packaged templates are not linted (pip install cfn-lint)\n');

  beforeAll(() => {
    basicVariant();
    listVariant();
    pathVariant();
  }, 900_000);

  (installed ? it : it.skip)(
    'finds no error and no warning in any packaged variant (cfn-lint)',
    () => {
      const templates = packaged.map((stack) => path.join(stack.dir, 'cloudformation-template-update-stack.json'));
      expect(templates).toHaveLength(4);
      const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(lint.stdout + lint.stderr).toBe('');
      expect(lint.status).toBe(0);
    },
    150_000,
  );
});
