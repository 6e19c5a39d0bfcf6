/**
 * npm run redrive -- --stage prod --region ap-northeast-1 [--queue events|engagement] [--mode auto|task|copy] [--max N]
 * npm run redrive -- --stage local [--url <webhook URL>] [--queue …] [--mode …] [--max N]
 * npm run redrive -- --dlq-url <url> --queue-url <url> [--region …] [--mode …] [--max N]
 *
 * Moves the events in a dead-letter queue back to its queue (after the cause is fixed): the events queue's, or with
 * `--queue engagement` the engagement queue's (taps, beacons … that failed every attempt). Then it says what
 * became of them: locally it waits for the worker and reports each event as a replay does; for a deployed stage it
 * lists the events it moved (copy mode) and where to follow them. With --stage the queue names come from
 * serverless.yml; `--stage local` finds the running `npm start` itself, so no endpoint variables are needed.
 */
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';

import { createSqsClient } from '../lib/queue/sqs-client';
import { LOCAL_STAGE } from '../local/local-pipeline';
import { DEFAULT_WEBHOOK_URL, PipelineAdminClient, type LocalPipelineStatus } from '../local/pipeline-admin-api';
import { followEvents, formatWorkerReport, type PostedBody } from '../local/replay';
import { redrive, type RedriveMode } from '../ops/redrive';
import { deployedFollowUp, movedEvents } from '../ops/redrive-follow-up';
import { loadLocalResources, LOCAL_REGION } from '../ops/serverless-resources';
import { parseCli, runCli, UsageError } from './cli';

const USAGE =
  'usage: npm run redrive -- (--stage <stage> [--queue events|engagement] | --dlq-url <url> --queue-url <url>) [--region <region>] [--url <local webhook URL>] [--mode auto|task|copy] [--max <n>]';

/** Each queue the worker drains, by --queue: its logical id in serverless.yml and its DLQ's. */
const QUEUES = {
  events: { queue: 'EventsQueue', dlq: 'EventsDeadLetterQueue' },
  engagement: { queue: 'EngagementQueue', dlq: 'EngagementDeadLetterQueue' },
} as const;
type QueueKind = keyof typeof QUEUES;

interface Target {
  sqs: SQSClient;
  stage?: string;
  region: string;
  /** set for the local pipeline: its worker is followed after the move */
  local?: { admin: PipelineAdminClient; before: LocalPipelineStatus };
}

async function queueUrlsOfStage(
  sqs: SQSClient,
  stage: string,
  kind: QueueKind,
): Promise<{ dlqUrl: string; queueUrl: string }> {
  const { queues } = loadLocalResources(stage);
  const urlOf = async (logicalId: string) => {
    const queue = queues.find((candidate) => candidate.logicalId === logicalId);
    if (!queue) throw new UsageError(`serverless.yml declares no queue ${logicalId}`);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
    return QueueUrl as string;
  };
  return { dlqUrl: await urlOf(QUEUES[kind].dlq), queueUrl: await urlOf(QUEUES[kind].queue) };
}

/** The running `npm start`, found through its admin API; its SQS server takes any credentials. */
async function localTarget(webhookUrl: string): Promise<Target> {
  const admin = new PipelineAdminClient(webhookUrl);
  const before = await admin.probe();
  if (before === undefined) {
    throw new UsageError(
      `No local pipeline answers at ${admin.adminUrl}status: start it with \`npm start\`, or pass --url <its webhook URL> if it runs on other ports.`,
    );
  }
  const sqs = createSqsClient({
    endpoint: before.endpoints.sqs,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { sqs, stage: LOCAL_STAGE, region: LOCAL_REGION, local: { admin, before } };
}

function deployedTarget(stage: string | undefined, region: string | undefined): Target {
  const resolved = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!resolved)
    throw new UsageError('No AWS region: pass --region <region> (e.g. --region ap-northeast-1) or set AWS_REGION.');
  return { sqs: createSqsClient({ region: resolved }), stage, region: resolved };
}

/** The moved events as the replay report's bodies: one per message, labelled in the order they moved. */
const movedAsBodies = (movedBodies: string[]): PostedBody[] =>
  movedEvents(movedBodies).map(({ destination, event }, index) => ({
    name: `redriven #${index + 1}`,
    status: 200,
    answer: {},
    destination,
    events: [event],
  }));

async function main(): Promise<void> {
  const { values } = parseCli(USAGE, {
    stage: { type: 'string' },
    region: { type: 'string' },
    url: { type: 'string', default: DEFAULT_WEBHOOK_URL },
    'dlq-url': { type: 'string' },
    'queue-url': { type: 'string' },
    queue: { type: 'string', default: 'events' },
    mode: { type: 'string', default: 'auto' },
    max: { type: 'string' },
  });
  const mode = values.mode as RedriveMode;
  const maxMessages = values.max === undefined ? undefined : Number(values.max);
  const byUrls = values['dlq-url'] !== undefined && values['queue-url'] !== undefined;
  if (
    !['auto', 'task', 'copy'].includes(mode) ||
    (maxMessages !== undefined && !(Number.isInteger(maxMessages) && maxMessages > 0)) ||
    (!byUrls && !values.stage) ||
    !Object.hasOwn(QUEUES, values.queue)
  ) {
    throw new UsageError(USAGE);
  }

  // A redrive to the local pipeline knows its own endpoint, unless the caller chose one (AWS_ENDPOINT_URL_SQS or the URLs).
  const target =
    values.stage === LOCAL_STAGE && !byUrls && !process.env.AWS_ENDPOINT_URL_SQS
      ? await localTarget(values.url)
      : deployedTarget(values.stage, values.region);
  const urls = byUrls
    ? { dlqUrl: values['dlq-url'] as string, queueUrl: values['queue-url'] as string }
    : await queueUrlsOfStage(target.sqs, values.stage as string, values.queue as QueueKind);

  const result = await redrive(target.sqs, { ...urls, mode, maxMessages });
  console.log(
    `Moved ${result.moved} message(s) from ${urls.dlqUrl} to ${urls.queueUrl} (${result.mode === 'task' ? 'SQS message move task' : 'copy'}).`,
  );
  if (result.deferred > 0) {
    const when =
      result.retryAfter === undefined
        ? 'in a few minutes'
        : `after ${new Date(result.retryAfter).toISOString().slice(11, 19)} UTC`;
    console.log(
      `Left ${result.deferred} message(s) in the DLQ: sent less than 5 minutes ago, the queue would deduplicate them. Run again ${when}.`,
    );
  }
  if (result.failed > 0) {
    console.error(
      `${result.failed} message(s) could not be moved (a send or delete failed); run again: the deduplication id keeps a repeat send from doubling them.`,
    );
    process.exitCode = 1;
  }
  if (result.moved === 0) return;
  if (target.local) {
    const worker = await followEvents(target.local.admin, target.local.before, movedAsBodies(result.movedBodies), {
      waitSeconds: 300,
      progress: (line) => process.stderr.write(`… ${line}\n`),
    });
    console.log(`\n${formatWorkerReport(worker)}`);
    if (!worker.status.drained) process.exitCode = 1;
  } else {
    console.log(
      deployedFollowUp(result, { stage: target.stage, region: target.region, dlqUrl: urls.dlqUrl }).join('\n'),
    );
  }
}

runCli(main);
