/** Three channels on one Capillary org: `th` and `tw` of one provider (one user id per person), `jp` of another. */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';

import { DEFAULT_CAPILLARY_ORG_ID } from '../../lib/config/channels';
import type { WorkerChannel, WorkerConfig } from '../../lib/config/worker-config';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { buildSyncDeps } from '../../lib/worker/worker-deps';
import { lambdaContext } from '../../local/lambda-context';
import { toSqsEvent, toSqsRecord } from '../../local/lambda-events';
import { followEvent, lineUserId } from '../../local/line-event-factory';
import { createFifoQueue, receiveAll, type TestFifoQueue } from '../../local/rigs/aws-kit';
import { startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';
import { subscriptionOf } from '../../local/standins/capillary-standin';

export const BOT = { th: `U${'1'.repeat(32)}`, tw: `U${'2'.repeat(32)}`, jp: `U${'3'.repeat(32)}` };
export const VIA = {
  th: { channel: 'th', destination: BOT.th },
  tw: { channel: 'tw', destination: BOT.tw },
  jp: { channel: 'jp', destination: BOT.jp },
};

const channel = (id: keyof typeof BOT): WorkerChannel => ({
  id,
  channelAccessToken: `token-${id}`,
  capillaryLineAccountId: `account-${id}`,
  capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
  destination: BOT[id],
});

export interface SiblingHarness extends WorkerHarness {
  sqs: SQSClient;
  queue: TestFifoQueue;
  /** what the worker queued since the last call, taken off the queue */
  queued(): Promise<Message[]>;
  /** runs queued messages through the worker as SQS delivers them (this delivery count) */
  deliver(messages: Message[], receiveCount?: number): ReturnType<WorkerHarness['run']>;
}

/** The worker harness with the three channels, and the worker's deps built with a real (local) events queue. */
export async function startSiblingHarness(link: Partial<WorkerConfig['link']> = {}): Promise<SiblingHarness> {
  const harness = await startWorkerHarness({
    channels: [channel('th'), channel('tw'), channel('jp')],
    lineStandIn: { channelAccessToken: ['token-th', 'token-tw', 'token-jp'], profiles: {} },
    link,
  });
  const sqs = createSqsClient();
  const queue = await createFifoQueue(sqs);
  Object.assign(harness.deps, buildSyncDeps({ ...harness.config, eventsQueueUrl: queue.queueUrl }, harness.dynamo));
  const context = lambdaContext({ name: 'test-worker', memoryMb: 512, timeoutSeconds: 30 });
  const deliver = (messages: Message[], receiveCount = 1) =>
    processSqsBatch(
      toSqsEvent(
        messages.map((message) =>
          toSqsRecord(
            { ...message, Attributes: { ...message.Attributes, ApproximateReceiveCount: String(receiveCount) } },
            queue.queueArn,
          ),
        ),
      ),
      context,
      harness.deps,
    );
  return {
    ...harness,
    store: harness.deps.store,
    sqs,
    queue,
    queued: () => receiveAll(sqs, queue.queueUrl),
    deliver,
    async close() {
      sqs.destroy();
      await harness.close();
    },
  };
}

export const lineSubscriptionOf = (harness: WorkerHarness, customerId: number, id: keyof typeof BOT) =>
  subscriptionOf(harness.capillary.state(), customerId, 'LINE', `account-${id}`);

/** The LINE accounts whose profile a customer carries, sorted. */
export const lineAccountsOf = (harness: WorkerHarness, customerId: number): string[] =>
  (harness.capillary.state().customers.find((c) => c.id === customerId)?.profiles ?? [])
    .filter((profile) => profile.source === 'LINE')
    .map((profile) => profile.accountId)
    .sort();

/** The customers carrying this LINE user id (in any account). */
export const holdersOf = (harness: WorkerHarness, userId: string): number[] =>
  harness.capillary.customersWithIdentifier('line', userId).map((customer) => customer.id);

/** One person follows th and tw (one customer, a LINE profile per account) and is a store member with `mobile`. */
export async function personOnBothChannels(
  mobile: string,
): Promise<{ harness: SiblingHarness; memberId: number; userId: string; anonymousId: number }> {
  const harness = await startSiblingHarness();
  const memberId = harness.capillary.addMember({ mobile });
  const userId = lineUserId();
  await harness.run([followEvent(userId, 1000)], 1, VIA.th);
  await harness.run([followEvent(userId, 1100)], 1, VIA.tw);
  const [anonymousId] = holdersOf(harness, userId) as [number];
  return { harness, memberId, userId, anonymousId };
}
