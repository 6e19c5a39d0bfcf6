/** One emulated worker Lambda instance (see worker-throughput.ts): its own deps, module state and event loop. */
import '../local/quiet-telemetry';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';

import type { RecordSettled } from '../lib/worker/handle-queued-event';
import { processSqsBatch } from '../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../lib/worker/worker-deps';
import { lambdaContext } from '../local/lambda-context';
import { toSqsEvent } from '../local/lambda-events';
import { countDynamoCommands, LIMITER_SUFFIX } from './dynamo-commands';
import type { BatchDone, WorkerInstanceSettings } from './worker-throughput';

const {
  config,
  worker,
  singleRegistrations,
  engagementRules = [],
} = JSON.parse(process.argv[2] ?? '') as WorkerInstanceSettings;
const dynamo = new DynamoDBClient({});
const commands = countDynamoCommands(dynamo);
// The rules' Map arrived as {}: rebuilt from the rules sent beside it.
const engagement = {
  posting: config.engagement.posting,
  rulesByChannel: new Map(config.channels.all.map(({ id }) => [id, engagementRules])),
};
let settledAt: Record<string, number> = {};
const deps = {
  ...buildSyncDeps({ ...config, engagement }, dynamo),
  ...(singleRegistrations ? { bulk: undefined } : {}),
  onSettled: ({ messageId }: RecordSettled) => void (settledAt[messageId] = Date.now()),
};

process.on('message', (records: SQSRecord[]) => {
  const started = Date.now();
  settledAt = {};
  const context = lambdaContext({
    name: 'bench-worker',
    memoryMb: worker.memoryMb,
    timeoutSeconds: worker.timeoutSeconds,
  });
  void processSqsBatch(toSqsEvent(records), context, deps).then((response) => {
    const done: BatchDone = {
      batchMs: Date.now() - started,
      failedEvents: response.batchItemFailures.length,
      limiterWrites: commands.get(`UpdateItemCommand${LIMITER_SUFFIX}`) ?? 0,
      settledAt,
    };
    process.send?.(done);
  });
});
// An instance never outlives the bench that started it.
process.on('disconnect', () => process.exit(0));
process.send?.('ready');
