/**
 * The deployed (or local) stack an operator command talks to, found from serverless.yml: table and queue
 * names by stage, queue URLs from SQS. `--stage local` means the running `npm start` on its default
 * ports unless the AWS_ENDPOINT_URL_* variables say otherwise.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

import type { Env } from '../lib/config/env-reader';
import { createSqsClient } from '../lib/queue/sqs-client';
import { functionEnvironment, loadLocalResources, LOCAL_REGION, queueNamed } from './serverless-resources';

/** The options every stage command takes (parseArgs form): which stage, which channel, which region. */
export const STAGE_OPTIONS = {
  stage: { type: 'string' },
  channel: { type: 'string', default: 'default' },
  region: { type: 'string' },
} as const;

export interface StageTarget {
  stage: string;
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
  eventsQueueUrl: string;
  backfillQueueUrl: string;
  close(): void;
}

/** Where `npm start` serves DynamoDB and SQS by default (docs/local.md). */
const LOCAL_ENDPOINTS = {
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
  AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566',
};

export async function stageTarget(stage: string, region: string | undefined): Promise<StageTarget> {
  if (stage === 'local') {
    for (const [name, value] of Object.entries(LOCAL_ENDPOINTS)) process.env[name] ??= value;
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  const clientRegion = region ?? process.env.AWS_REGION ?? LOCAL_REGION;
  const resources = loadLocalResources(stage);
  const dynamo = new DynamoDBClient({ region: clientRegion });
  const sqs = createSqsClient({ region: clientRegion });
  const urlOf = async (logicalId: string) => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueNamed(resources, logicalId).name }));
    return QueueUrl as string;
  };
  return {
    stage,
    dynamo,
    sqs,
    tableName: resources.tables[0]?.TableName as string,
    eventsQueueUrl: await urlOf('EventsQueue'),
    backfillQueueUrl: await urlOf('BackfillQueue'),
    close: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
}

/**
 * The environment the worker gets on the target's stage, for an operator command that calls LINE and
 * Capillary itself (the drift check): serverless.yml's own, with the stack's table name filled in; secrets
 * stay SSM parameter names (read with the operator's credentials), or the local values for `local`. Set
 * variables win.
 */
export function workerEnvironment(target: Pick<StageTarget, 'stage' | 'tableName'>, env: Env): Env {
  const declared = Object.entries(functionEnvironment(target.stage, 'worker')).filter(
    ([, value]) => typeof value !== 'object',
  );
  return {
    ...Object.fromEntries(declared.map(([name, value]) => [name, String(value)])),
    TABLE_NAME: target.tableName,
    ...env,
  };
}
