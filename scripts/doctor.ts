/**
 * npm run doctor -- --stage <stage> [--channel <id>] [--json] [--test-webhook] [--write-probe <test customer mobile>]
 *                   [--webhook-url <the stage's HttpApiUrl>/line/webhook] [--region <region>] [--url <local webhook URL>]
 *
 * Checks a stage against the real LINE channels, Capillary orgs and AWS resources it uses, one line per check
 * (✔ / ✘ / ?, with the fix), exit status 1 when anything failed. Read-only unless --write-probe or --test-webhook.
 * `--stage local` checks the running `npm start` and its stand-ins.
 */
import '../local/quiet-telemetry'; // first: the library's JSON logs are for CloudWatch; this prints its own lines

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';

import { ssmSecret } from '../lib/config/once-per-container';
import { readWorkerConfig, type WorkerConfig } from '../lib/config/worker-config';
import { createSqsClient } from '../lib/queue/sqs-client';
import {
  DEFAULT_WEBHOOK_URL,
  PipelineAdminClient,
  runningPipelineEnvironment,
  webhookUrlFor,
  type LocalPipelineStatus,
} from '../local/pipeline-admin-api';
import type { AwsTarget } from '../ops/doctor/aws-checks';
import { runDoctor } from '../ops/doctor/doctor';
import { doctorExitCode, formatResults, resultsAsJson } from '../ops/doctor/format';
import { richMenuIdsOf } from '../ops/doctor/line-checks';
import {
  alarmNames,
  functionEnvironment,
  loadLocalResources,
  LOCAL_REGION,
  readServerlessYml,
  stageParams,
} from '../ops/serverless-resources';
import { workerEnvironment } from '../ops/stage-target';
import { NO_PIPELINE_HINT, parseCli, runCli, UsageError } from './cli';

const USAGE = `usage: npm run doctor -- --stage <stage> [--channel <id>] [--json] [--test-webhook] [--write-probe <test customer mobile>]
                         [--webhook-url <HttpApiUrl>/line/webhook] [--region <region>] [--url <local webhook URL>]
Read-only by default. --test-webhook asks LINE to call the webhook (60 a hour); --write-probe writes to the test
customer with that mobile (each write undone where Capillary allows) and prints the settings the org needs.`;

const OPTIONS = {
  stage: { type: 'string' },
  channel: { type: 'string' },
  json: { type: 'boolean', default: false },
  'test-webhook': { type: 'boolean', default: false },
  'write-probe': { type: 'string' },
  'webhook-url': { type: 'string' },
  region: { type: 'string' },
  url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
} as const;

/** SSM parameter name → the functions that read it, from serverless.yml's environments of the stage. */
function parametersOf(stage: string): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const fn of Object.keys(readServerlessYml().functions as object)) {
    for (const [variable, value] of Object.entries(functionEnvironment(stage, fn))) {
      if (!variable.endsWith('_PARAM') || typeof value !== 'string' || value === '') continue;
      readers.set(value, [...(readers.get(value) ?? []), fn]);
    }
  }
  return readers;
}

async function readConfig(env: Record<string, string | undefined>): Promise<WorkerConfig | { problem: string }> {
  try {
    return await readWorkerConfig(env, ssmSecret);
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** Rich menu ids the settings name: LINE_RICH_MENUS_BY_TIER, or a channel entry's richMenusByTier (both optional). */
function richMenuIdsFrom(env: Record<string, string | undefined>): (channelId: string) => string[] {
  let entries: unknown[] = [];
  try {
    entries = [JSON.parse(env.LINE_CHANNELS ?? '[]')].flat();
  } catch {
    entries = [];
  }
  return (channelId) => {
    const entry = entries.find((candidate) => (candidate as { id?: unknown } | null)?.id === channelId);
    const own = richMenuIdsOf((entry as { richMenusByTier?: unknown } | undefined)?.richMenusByTier);
    return own.length > 0 ? own : richMenuIdsOf(env.LINE_RICH_MENUS_BY_TIER);
  };
}

async function localStage(url: string) {
  const status: LocalPipelineStatus | undefined = await new PipelineAdminClient(url).probe();
  if (status === undefined) throw new UsageError(`No local pipeline answers at ${url}.\n${NO_PIPELINE_HINT}`);
  const env = runningPipelineEnvironment(
    status,
    workerEnvironment({ stage: 'local', tableName: status.tableName }, {}),
  );
  // Its SQS and DynamoDB servers take any credentials.
  const clientOptions = { region: LOCAL_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  return {
    env,
    webhookUrlOf: (id: string) => webhookUrlFor(status.endpoints.webhookUrl, id),
    settingsHint: "the local pipeline's channels (LOCAL_CHANNELS in local/sample-events.ts)",
    clients: {
      sqs: createSqsClient({ ...clientOptions, endpoint: status.endpoints.sqs }),
      dynamo: new DynamoDBClient({ ...clientOptions, endpoint: status.endpoints.dynamodb }),
    },
  };
}

function deployedStage(stage: string, region: string | undefined, webhookUrl: string | undefined) {
  if (region !== undefined) process.env.AWS_REGION = region;
  const clientRegion = region ?? process.env.AWS_REGION ?? LOCAL_REGION;
  const tableName = loadLocalResources(stage).tables[0]?.TableName as string;
  return {
    env: workerEnvironment({ stage, tableName }, process.env),
    webhookUrlOf: (id: string) => (webhookUrl === undefined ? undefined : webhookUrlFor(webhookUrl, id)),
    settingsHint: `the stage's SSM parameters (/line-capillary-bridge/${stage}/…, docs/deploy.md)`,
    clients: {
      sqs: createSqsClient({ region: clientRegion }),
      dynamo: new DynamoDBClient({ region: clientRegion }),
      ssm: new SSMClient({ region: clientRegion }),
      cloudWatch: new CloudWatchClient({ region: clientRegion }),
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, OPTIONS);
  if (!values.stage) throw new UsageError(`--stage is required\n${USAGE}`);
  const { stage } = values;
  const local = stage === 'local';
  const target = local ? await localStage(values.url) : deployedStage(stage, values.region, values['webhook-url']);
  const resources = loadLocalResources(stage);
  const aws: AwsTarget = {
    stage,
    local,
    ...target.clients,
    parameters: local ? new Map() : parametersOf(stage),
    kmsKeyArn: String(stageParams(stage).ssmKmsKeyArn ?? ''),
    queues: resources.queues.map(({ name, isDlq }) => ({ name, isDlq })),
    tableName: target.env.TABLE_NAME as string,
    alarmNames: local ? [] : alarmNames(stage),
  };
  try {
    const results = await runDoctor({
      config: await readConfig(target.env),
      ...(values.channel === undefined ? {} : { channel: values.channel }),
      webhookUrlOf: target.webhookUrlOf,
      richMenuIdsOf: richMenuIdsFrom({ ...target.env, ...process.env }),
      settingsHint: target.settingsHint,
      testWebhook: values['test-webhook'],
      ...(values['write-probe'] === undefined ? {} : { writeProbeMobile: values['write-probe'] }),
      aws,
    });
    process.stdout.write(values.json ? resultsAsJson(results) : formatResults(results));
    process.exitCode = doctorExitCode(results);
  } finally {
    for (const client of Object.values(target.clients)) client.destroy();
  }
}

runCli(main);
