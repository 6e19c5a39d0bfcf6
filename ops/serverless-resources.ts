/**
 * The local pipeline creates the same DynamoDB tables and SQS queues as a deployment, read from
 * serverless.yml itself, so the two cannot drift. Only the parts of serverless.yml a table or queue
 * definition uses are understood: CloudFormation tags, and the ${self:…}, ${sls:stage}, ${opt:…} and
 * ${param:…} variables. Anything else in those definitions is an error, not a silent guess.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import yaml from 'js-yaml';

/** The account id local SQS servers (fauxqs) put in queue ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** The region the local servers and `--stage local` use (serverless.yml's default region). */
export const LOCAL_REGION = 'ap-northeast-1';

export const SERVERLESS_YML = path.resolve(__dirname, '../serverless.yml');

export interface LocalQueue {
  /** the resource's name in serverless.yml (EventsQueue, BackfillQueue, …) */
  logicalId: string;
  name: string;
  /** CreateQueue attributes: every value a string, RedrivePolicy as JSON pointing at the local DLQ ARN */
  attributes: Record<string, string>;
  isDlq: boolean;
}

/** The queue serverless.yml names `logicalId`; an error naming it when there is none. */
export function queueNamed(resources: LocalResources, logicalId: string): LocalQueue {
  const queue = resources.queues.find((candidate) => candidate.logicalId === logicalId);
  if (queue === undefined) throw new Error(`serverless.yml declares no queue ${logicalId}`);
  return queue;
}

export interface LocalResources {
  tables: CreateTableInput[];
  /** dead-letter queues first, so a queue's redrive target exists when it is created */
  queues: LocalQueue[];
}

export type Yaml = Record<string, unknown>;

interface CfnResource {
  Type: string;
  Properties?: Yaml;
}

const INTRINSIC_FUNCTIONS = [
  'Ref',
  'Condition',
  'Fn::Base64',
  'Fn::Cidr',
  'Fn::FindInMap',
  'Fn::GetAtt',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::Sub',
  'Fn::Transform',
  'Fn::And',
  'Fn::Equals',
  'Fn::If',
  'Fn::Not',
  'Fn::Or',
];

/** `!Ref X` → `{ Ref: X }`, `!GetAtt A.B` → `{ 'Fn::GetAtt': ['A', 'B'] }`, … as CloudFormation's JSON form. */
const CLOUDFORMATION_SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  INTRINSIC_FUNCTIONS.flatMap((name) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) =>
        new yaml.Type(`!${name.replace('Fn::', '')}`, {
          kind,
          construct: (data: unknown) => {
            if (name === 'Fn::GetAtt' && typeof data === 'string') {
              const dot = data.indexOf('.');
              return { [name]: [data.slice(0, dot), data.slice(dot + 1)] };
            }
            return { [name]: data };
          },
        }),
    ),
  ),
);

/** `${source:address}` or `${source:address, 'fallback'}` with no variable nested inside (resolved innermost first). */
const VARIABLE = /\$\{(self|sls|opt|param):([^${},]*)(?:,\s*([^${}]*))?\}/;

class ServerlessVariables {
  constructor(
    private readonly config: Yaml,
    private readonly stage: string,
  ) {}

  resolve(value: unknown): unknown {
    if (typeof value === 'string') return this.resolveString(value);
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item)]));
    }
    return value;
  }

  private resolveString(text: string): unknown {
    let current = text;
    for (let match = VARIABLE.exec(current); match; match = VARIABLE.exec(current)) {
      const [variable, source, address, fallback] = match as unknown as [string, string, string, string | undefined];
      const value =
        this.lookup(source, address.trim()) ?? (fallback === undefined ? undefined : parseLiteral(fallback));
      if (value === undefined) throw new Error(`serverless.yml: cannot resolve ${variable} for stage "${this.stage}"`);
      // A variable that is the whole string keeps its type (numbers stay numbers), as in the Framework.
      if (variable === current) return value;
      current = current.replace(variable, () => String(value));
    }
    return current;
  }

  private lookup(source: string, address: string): unknown {
    switch (source) {
      case 'sls':
        return address === 'stage' ? this.stage : undefined;
      case 'opt':
        return { stage: this.stage, region: LOCAL_REGION }[address];
      case 'param': {
        const params = (this.config.params ?? {}) as Record<string, Yaml | undefined>;
        return params[this.stage]?.[address] ?? params.default?.[address];
      }
      default: {
        if (address === 'provider.stage') return this.stage;
        const value = address.split('.').reduce<unknown>((node, key) => (node as Yaml | undefined)?.[key], this.config);
        return this.resolve(value);
      }
    }
  }
}

function parseLiteral(text: string): string | number | null {
  const literal = text.trim();
  const quoted = /^(['"])(.*)\1$/.exec(literal);
  if (quoted) return quoted[2] as string;
  if (/^-?\d+(\.\d+)?$/.test(literal)) return Number(literal);
  // `${…, null}`: a setting the stage leaves out (the Framework drops it from a function's environment).
  if (literal === 'null') return null;
  throw new Error(`serverless.yml: unsupported variable fallback ${literal}`);
}

const localQueueArn = (queueName: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queueName}`;

function toCreateTableInput(properties: Yaml): CreateTableInput {
  const { TableName, AttributeDefinitions, KeySchema, BillingMode, GlobalSecondaryIndexes } = properties;
  return { TableName, AttributeDefinitions, KeySchema, BillingMode, GlobalSecondaryIndexes } as CreateTableInput;
}

/** serverless.yml as data, CloudFormation tags (`!Ref`, `!GetAtt`, …) kept as `{ tag: value }` objects. */
export function readServerlessYml(serverlessYmlPath = SERVERLESS_YML): Yaml {
  return yaml.load(readFileSync(serverlessYmlPath, 'utf8'), { schema: CLOUDFORMATION_SCHEMA }) as Yaml;
}

/** Reads the tables and queues of serverless.yml as they would be for `stage`, ready for local CreateTable/CreateQueue. */
export function loadLocalResources(stage: string, serverlessYmlPath = SERVERLESS_YML): LocalResources {
  const config = readServerlessYml(serverlessYmlPath);
  const variables = new ServerlessVariables(config, stage);
  const resources = ((config.resources as Yaml | undefined)?.Resources ?? {}) as Record<string, CfnResource>;
  const propertiesOf = (logicalId: string) => variables.resolve(resources[logicalId]?.Properties ?? {}) as Yaml;
  const logicalIdsOf = (type: string) => Object.keys(resources).filter((id) => resources[id]?.Type === type);

  /** The queue a redrive policy targets; serverless.yml names it as `!GetAtt <Queue>.Arn`. */
  const deadLetterQueueOf = (redrivePolicy: Yaml): string => {
    const [logicalId, attribute] =
      (redrivePolicy.deadLetterTargetArn as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'] ?? [];
    if (logicalId === undefined || attribute !== 'Arn') {
      throw new Error(
        `serverless.yml: deadLetterTargetArn must be !GetAtt <Queue>.Arn, got ${JSON.stringify(redrivePolicy.deadLetterTargetArn)}`,
      );
    }
    return propertiesOf(logicalId).QueueName as string;
  };

  const queues = logicalIdsOf('AWS::SQS::Queue').map((logicalId) => {
    const { QueueName, RedrivePolicy, ...settings } = propertiesOf(logicalId);
    const attributes = Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, String(value)]));
    const deadLetterQueue = RedrivePolicy === undefined ? undefined : deadLetterQueueOf(RedrivePolicy as Yaml);
    if (deadLetterQueue !== undefined) {
      attributes.RedrivePolicy = JSON.stringify({
        ...(RedrivePolicy as Yaml),
        deadLetterTargetArn: localQueueArn(deadLetterQueue),
      });
    }
    return { logicalId, name: QueueName as string, attributes, deadLetterQueue };
  });
  const deadLetterQueues = new Set(queues.map((queue) => queue.deadLetterQueue));

  return {
    tables: logicalIdsOf('AWS::DynamoDB::Table').map((logicalId) => toCreateTableInput(propertiesOf(logicalId))),
    queues: queues
      .map(({ logicalId, name, attributes }) => ({ logicalId, name, attributes, isDlq: deadLetterQueues.has(name) }))
      .sort((a, b) => Number(b.isDlq) - Number(a.isDlq)),
  };
}

/** The names of the CloudWatch alarms serverless.yml declares, as they are on `stage`. */
export function alarmNames(stage: string, serverlessYmlPath = SERVERLESS_YML): string[] {
  const config = readServerlessYml(serverlessYmlPath);
  const variables = new ServerlessVariables(config, stage);
  const resources = ((config.resources as Yaml | undefined)?.Resources ?? {}) as Record<string, CfnResource>;
  return Object.values(resources)
    .filter(({ Type }) => Type === 'AWS::CloudWatch::Alarm')
    .map(({ Properties }) => variables.resolve(Properties?.AlarmName) as string);
}

/** serverless.yml's `params` for a stage: the stage's own over `default`. */
export function stageParams(stage: string, serverlessYmlPath = SERVERLESS_YML): Yaml {
  const params = (readServerlessYml(serverlessYmlPath).params ?? {}) as Record<string, Yaml | undefined>;
  return { ...params.default, ...params[stage] };
}

/**
 * The environment serverless.yml gives function `name` on `stage`, variables resolved and the variables the stage
 * leaves out (resolved to null) dropped, as the Framework does; CloudFormation references (e.g. `{ Ref: UsersTable }`)
 * are left as they are, for the caller to fill in.
 */
export function functionEnvironment(
  stage: string,
  name: string,
  serverlessYmlPath = SERVERLESS_YML,
): Record<string, unknown> {
  const config = readServerlessYml(serverlessYmlPath);
  const definition = (config.functions as Record<string, Yaml | undefined> | undefined)?.[name];
  if (definition === undefined) throw new Error(`serverless.yml declares no function ${name}`);
  const environment = new ServerlessVariables(config, stage).resolve(definition.environment ?? {}) as Yaml;
  return Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== null));
}
