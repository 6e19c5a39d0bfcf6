/**
 * Faults on the AWS side: SQS refusing the webhook's batches, DynamoDB throttling the worker, two
 * workers racing for one user's record, and a Lambda invocation that times out after calling Capillary.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';

import type { LineWebhookEvent } from '../../lib/line/callback';
import { parseQueuedEvent } from '../../lib/queue/queued-event';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { ClaimHeldError, ClaimLostError } from '../../lib/store/errors';
import { handleWebhookRequest } from '../../lib/webhook/handle-webhook-request';
import { handleQueuedEvent, type EventOutcome } from '../../lib/worker/handle-queued-event';
import { startChaosServices, type ChaosServices } from '../../local/chaos/chaos-services';
import { playScenario, QUICK_FLEET } from '../../local/chaos/play-scenario';
import { scriptedScenario } from '../../local/chaos/scenario';
import {
  callbackBody,
  DESTINATION,
  followEvent,
  lineUserId,
  redelivery,
  unfollowEvent,
} from '../../local/line-event-factory';
import { createFifoQueue } from '../../local/rigs/aws-kit';
import { signedWebhookRequest, webhookConfigFor } from '../../local/rigs/webhook-rig';
import { LINE_ACCOUNT_ID, sqsRecordFor, startWorkerHarness, type WorkerHarness } from '../../local/rigs/worker-rig';
import { subscriptionOf } from '../../local/standins/capillary-standin';

type Outage = 'none' | 'partial' | 'full';

/** SQS as seen by the webhook during an outage: every other entry of a batch refused, or every call failing. */
function withSqsOutage(sqs: SQSClient): { set(outage: Outage): void } {
  let current: Outage = 'none';
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand' || current === 'none') return next(args);
      if (current === 'full')
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $fault: 'server',
        });
      const input = args.input as SendMessageBatchCommandInput;
      const entries = input.Entries ?? [];
      const refused = entries.filter((_, index) => index % 2 === 1);
      const result = await next({
        ...args,
        input: { ...input, Entries: entries.filter((_, index) => index % 2 === 0) },
      });
      const output = result.output as SendMessageBatchCommandOutput;
      const failed = refused.map((entry) => ({
        Id: entry.Id,
        SenderFault: false,
        Code: 'InternalError',
        Message: 'injected outage',
      }));
      return { ...result, output: { ...output, Failed: [...(output.Failed ?? []), ...failed] } };
    },
    { step: 'initialize', name: 'sqsOutage' },
  );
  return { set: (outage) => void (current = outage) };
}

/** Receives and deletes until the queue is empty (FIFO releases a group's next message only after a delete). */
async function takeAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const taken: Message[] = [];
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    if (messages.length === 0) return taken;
    taken.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

/** Three users, each following and unfollowing in turn. */
function historiesOfThreeUsers(eventsEach: number): LineWebhookEvent[] {
  return [lineUserId(), lineUserId(), lineUserId()].flatMap((userId) =>
    Array.from({ length: eventsEach }, (_, index) =>
      (index % 2 === 0 ? followEvent : unfollowEvent)(userId, 1000 + index),
    ),
  );
}

describe("SQS refusing the webhook's SendMessageBatch", () => {
  let sqs: SQSClient;
  let queueUrl: string;
  let outage: { set(outage: Outage): void };
  beforeEach(async () => {
    sqs = createSqsClient();
    ({ queueUrl } = await createFifoQueue(sqs));
    outage = withSqsOutage(sqs);
  });
  afterEach(() => sqs.destroy());

  const deliver = (events: LineWebhookEvent[]) =>
    handleWebhookRequest(signedWebhookRequest(callbackBody(events)), {
      config: webhookConfigFor(queueUrl),
      sqs,
    });

  // A partial outage can queue a user's events out of order (the refused entries are sent again after the
  // accepted ones); the worker's timestamp guard then skips the older event as stale (the property test covers that).
  it.each<Outage>(['partial', 'full'])(
    'answers 500 during a %s outage; once LINE redelivers after it, every event is queued exactly once',
    async (kind) => {
      // Prepare
      const events = historiesOfThreeUsers(4);
      // Act: the outage outlasts the webhook's own retries; LINE then redelivers, twice
      outage.set(kind);
      const duringOutage = await deliver(events);
      outage.set('none');
      const redeliveries = [await deliver(events.map(redelivery)), await deliver(events.map(redelivery))];
      // Assess
      expect(duringOutage.statusCode).toBe(500);
      expect(JSON.parse(duringOutage.body as string).message).toMatch(/retry/);
      expect(redeliveries.map((response) => response.statusCode)).toEqual([200, 200]);
      const queued = (await takeAll(sqs, queueUrl)).map(
        (message) => parseQueuedEvent(message.Body!).event.webhookEventId,
      );
      expect(queued.sort()).toEqual(events.map((event) => event.webhookEventId).sort());
    },
  );
});

describe('the worker against DynamoDB and Lambda faults (webhook → FIFO queue → worker)', () => {
  let services: ChaosServices;
  beforeAll(async () => {
    services = await startChaosServices();
  });
  afterAll(() => services.close());

  it('retries the events whose claim or commit DynamoDB throttled, and leaves every user right', async () => {
    // Prepare: every fourth conditional write is throttled, as the SDK reports it once its own retries are spent
    let writes = 0;
    services.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && ++writes % 4 === 0) {
          throw new ProvisionedThroughputExceededException({
            message: 'The level of configured provisioned throughput for the table was exceeded',
            $metadata: {},
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'throttleWrites' },
    );
    const scenario = scriptedScenario({
      histories: [
        [
          ['follow', 0],
          ['unfollow', 0],
        ],
        [['follow', 0]],
        [
          ['unfollow', 0],
          ['follow', 0],
        ],
      ],
    });
    // Act
    const result = await playScenario(services, QUICK_FLEET, scenario).finally(() =>
      services.dynamo.middlewareStack.remove('throttleWrites'),
    );
    // Assess
    expect(result.problems).toEqual([]);
    expect(result.figures.lost).toBe(0);
    expect(result.figures.failureCauses.ProvisionedThroughputExceededException).toBeGreaterThan(0);
  }, 60_000);

  it('completes the work of an invocation that timed out after calling Capillary: nothing was deleted, the retry registers no second customer', async () => {
    // Prepare: one batch of two follows; the second stalls after its Capillary calls until the Lambda timeout
    const scenario = scriptedScenario({
      histories: [[['follow', 0]], [['follow', 0]]],
      eventsPerRequest: 2,
      crashes: [null, 'stall-before-commit'],
    });
    // Act
    const { figures, problems } = await playScenario(services, QUICK_FLEET, scenario);
    // Assess
    expect(problems).toEqual([]);
    expect(figures).toMatchObject({ lambdaTimeouts: 1, lost: 0, deadLettered: 0 });
    expect(figures.retried).toBeGreaterThanOrEqual(1);
    // the retry met its own earlier registration: "already exists", resolved by a lookup
    expect(services.capillary.calls().flatMap((call) => call.errorCodes)).toContain(8006);
  }, 60_000);

  it('lets the next event of a user proceed once the claim of an event parked in the DLQ expires; the redriven event is then stale', async () => {
    // Prepare: the follow stalls after Capillary and, with one receive allowed, goes to the DLQ holding its claim
    const scenario = scriptedScenario({
      histories: [
        [
          ['follow', 0],
          ['unfollow', 0],
        ],
      ],
      crashes: ['stall-before-commit'],
    });
    // Act
    const { figures, problems } = await playScenario(services, { ...QUICK_FLEET, maxReceiveCount: 1 }, scenario);
    // Assess
    expect(problems).toEqual([]);
    expect(figures).toMatchObject({ deadLettered: 1, skippedStale: 1, lost: 0 });
  }, 60_000);

  it('makes no subscription call for an older event that arrives while a newer one is parked in the DLQ with its claim', async () => {
    // Prepare: follow, then an unfollow that stalls after opting out in Capillary and is parked in the DLQ;
    // meanwhile an older follow, delivered late, reaches the worker once the unfollow's claim expired
    const scenario = scriptedScenario({
      histories: [
        [
          ['follow', 0],
          ['follow', 50],
          ['unfollow', 0],
        ],
      ],
      crashes: [null, 'stall-before-commit'],
    });
    // Act
    const { figures, problems } = await playScenario(services, { ...QUICK_FLEET, maxReceiveCount: 1 }, scenario);
    // Assess
    expect(figures.deadLettered).toBe(1);
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('two workers claiming the same user at once', () => {
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness();
    harness.capillary.configure({ latencyMs: 100 }); // the winner is still at Capillary while the others try to claim
  });
  afterEach(() => harness.close());

  const sync = (event: LineWebhookEvent) =>
    handleQueuedEvent(sqsRecordFor(event), harness.deps, Number.POSITIVE_INFINITY);
  const appliedCount = (results: PromiseSettledResult<EventOutcome>[]) =>
    results.filter((result) => result.status === 'fulfilled' && result.value.result === 'applied').length;
  const customersOf = (userId: string) => harness.capillary.customersWithIdentifier('line', userId);

  it('grants the claim to exactly one of several events; the others are refused until it commits, and their retries end right', async () => {
    // Prepare
    const userId = lineUserId();
    const events = [followEvent(userId, 1000), unfollowEvent(userId, 2000), followEvent(userId, 3000)];
    // Act
    const racing = await Promise.allSettled(events.map(sync));
    for (const event of events) await sync(event); // SQS redelivers each, in order
    // Assess
    expect(appliedCount(racing)).toBe(1);
    expect(
      racing.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason),
    ).toEqual([expect.any(ClaimHeldError), expect.any(ClaimHeldError)]);
    expect(await harness.store.read({ destination: DESTINATION, userId })).toMatchObject({
      lastEventId: events[2]!.webhookEventId,
      subscription: 'OPTIN',
    });
    const [customer, ...others] = customersOf(userId);
    expect(others).toEqual([]);
    expect(subscriptionOf(harness.capillary.state(), customer!.id, 'LINE', LINE_ACCOUNT_ID)).toEqual({
      BULK: 'OPTIN',
      TRANS: 'OPTIN',
    });
  });

  it('lets only one of two workers handling the same event commit it; the other is retried as a duplicate', async () => {
    // Prepare
    const userId = lineUserId();
    const event = followEvent(userId, 1000);
    // Act
    const racing = await Promise.allSettled([sync(event), sync(event)]);
    const retry = await sync(event);
    // Assess
    expect(appliedCount(racing)).toBe(1);
    const other = racing.find((result) => !(result.status === 'fulfilled' && result.value.result === 'applied'))!;
    expect(other.status === 'rejected' ? other.reason : other.value).toEqual(
      other.status === 'rejected' ? expect.any(ClaimLostError) : { result: 'skipped', reason: 'duplicate' },
    );
    expect(retry).toEqual({ result: 'skipped', reason: 'duplicate' });
    expect(customersOf(userId)).toHaveLength(1);
  });
});
