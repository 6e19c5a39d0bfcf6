/**
 * The doctor's AWS checks for a stage: every SSM parameter a function reads exists, is a SecureString and
 * decrypts (under the key the functions may use), the queues and DLQs exist (with their depth; a DLQ holding
 * messages fails), the alarms (alarms-check.ts) and the user table's point-in-time recovery.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeContinuousBackupsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DescribeParametersCommand, GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

import { checkAlarms } from './alarms-check';
import { fail, pass, unknown, type CheckResult } from './check';

export interface AwsTarget {
  stage: string;
  /** the local pipeline: no SSM, no alarms, no backups */
  local: boolean;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  ssm?: SSMClient;
  cloudWatch?: CloudWatchClient;
  /** SSM parameter name → the functions that read it */
  parameters: ReadonlyMap<string, readonly string[]>;
  /** the key the functions may decrypt with (ssmKmsKeyArn); empty = the AWS-managed aws/ssm */
  kmsKeyArn: string;
  queues: readonly { name: string; isDlq: boolean }[];
  tableName: string;
  /** the alarm names serverless.yml declares for the stage */
  alarmNames: readonly string[];
}

const AREA = 'AWS';
const AWS_MANAGED_SSM_KEY = 'alias/aws/ssm';

export async function checkAws(target: AwsTarget): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (target.local)
    results.push(pass(AREA, 'SSM parameters', 'none on the local stage: its settings are literal values'));
  else for (const [name, readers] of target.parameters) results.push(await checkParameter(target, name, readers));
  for (const queue of target.queues) results.push(await checkQueue(target, queue));
  if (target.local) results.push(pass(AREA, 'alarms', 'none on the local stage'));
  else
    results.push(
      ...(await checkAlarms({
        stage: target.stage,
        cloudWatch: target.cloudWatch as CloudWatchClient,
        alarmNames: target.alarmNames,
      })),
    );
  results.push(
    target.local
      ? pass(AREA, 'point-in-time recovery', 'not on the local stage (dynalite)')
      : await checkRecovery(target),
  );
  return results;
}

const errorName = (error: unknown): string => (error as Error).name;

async function checkParameter(target: AwsTarget, name: string, readers: readonly string[]): Promise<CheckResult> {
  const check = `SSM ${name}`;
  const putIt = `aws ssm put-parameter --type SecureString --name ${name} --value '…'${target.kmsKeyArn ? ` --key-id ${target.kmsKeyArn}` : ''} (read by ${readers.join(', ')})`;
  const ssm = target.ssm as SSMClient;
  try {
    const { Parameters = [] } = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }] }),
    );
    const [described] = Parameters;
    if (described === undefined) return fail(AREA, check, 'missing', putIt);
    if (described.Type !== 'SecureString')
      return fail(AREA, check, `is a ${described.Type}, not a SecureString`, `delete it and ${putIt}`);
    const expectedKey = target.kmsKeyArn || AWS_MANAGED_SSM_KEY;
    const keyId = described.KeyId ?? AWS_MANAGED_SSM_KEY;
    if (keyId !== expectedKey && !expectedKey.endsWith(keyId))
      return fail(
        AREA,
        check,
        `encrypted with ${keyId}, but the functions may decrypt with ${expectedKey} only`,
        `put it again with --overwrite --key-id ${expectedKey}, or set ssmKmsKeyArn to that key`,
      );
    await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return pass(AREA, check, `SecureString, decrypts (${keyId})`);
  } catch (error) {
    if (errorName(error) === 'ParameterNotFound') return fail(AREA, check, 'missing', putIt);
    return fail(
      AREA,
      check,
      `cannot be read or decrypted: ${errorName(error)}`,
      'run the doctor with credentials that may read it (the functions use the same key), or fix the key policy',
    );
  }
}

async function checkQueue(target: AwsTarget, queue: { name: string; isDlq: boolean }): Promise<CheckResult> {
  const check = `queue ${queue.name}`;
  try {
    const { QueueUrl } = await target.sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
    const { Attributes = {} } = await target.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const waiting = Number(Attributes.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    const depth = `${waiting} waiting, ${inFlight} in flight`;
    if (queue.isDlq && waiting + inFlight > 0)
      return fail(
        AREA,
        check,
        `dead-letter queue holds ${waiting + inFlight} message(s)`,
        `read why they failed (docs/operations.md), fix it, then npm run redrive -- --stage ${target.stage}`,
      );
    return pass(AREA, check, depth);
  } catch (error) {
    if (errorName(error) === 'QueueDoesNotExist' || errorName(error) === 'AWS.SimpleQueueService.NonExistentQueue')
      return fail(
        AREA,
        check,
        'does not exist',
        target.local
          ? 'start the local pipeline: npm start'
          : `deploy the stack: npx sls deploy --stage ${target.stage}`,
      );
    return unknown(AREA, check, `cannot be read: ${errorName(error)}`);
  }
}

async function checkRecovery(target: AwsTarget): Promise<CheckResult> {
  const check = `point-in-time recovery of ${target.tableName}`;
  const enable = `aws dynamodb update-continuous-backups --table-name ${target.tableName} --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true (serverless.yml turns it on: was it changed by hand?)`;
  try {
    const { ContinuousBackupsDescription } = await target.dynamo.send(
      new DescribeContinuousBackupsCommand({ TableName: target.tableName }),
    );
    const status = ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus;
    return status === 'ENABLED' ? pass(AREA, check, 'enabled') : fail(AREA, check, `${status ?? 'unknown'}`, enable);
  } catch (error) {
    if (errorName(error) === 'TableNotFoundException')
      return fail(AREA, check, 'the table does not exist', `deploy the stack: npx sls deploy --stage ${target.stage}`);
    return unknown(AREA, check, `cannot be read: ${errorName(error)}`);
  }
}
