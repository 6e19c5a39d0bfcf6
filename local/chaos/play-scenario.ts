/**
 * Plays a scenario through the real bridge: LINE's requests go through the real webhook handler into a
 * real local FIFO queue; a poller per Lambda instance feeds the real worker batch handler, which calls
 * the Capillary and LINE stand-ins and the local DynamoDB. Faults and crashes are armed on schedule,
 * the queue is drained (retries, and a redrive from the DLQ when something lands there), and the end
 * state is judged user by user.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

import type { WebhookConfig } from '../../lib/config/webhook-config';
import type { WorkerConfig } from '../../lib/config/worker-config';
import type { UserSyncState } from '../../lib/domain/sync-rules';
import { maskUserId } from '../../lib/observability/telemetry';
import { createSqsClient } from '../../lib/queue/sqs-client';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import { UserSyncStore } from '../../lib/store/user-sync-store';
import { handleWebhookRequest } from '../../lib/webhook/handle-webhook-request';
import type { EventOutcome, RecordSettled } from '../../lib/worker/handle-queued-event';
import { processSqsBatch } from '../../lib/worker/process-sqs-batch';
import { lambdaContext } from '../lambda-context';
import { callbackBody } from '../line-event-factory';
import { depthOfQueues, queueDepth, startQueuePoller, totalOf, type QueuePoller } from '../queue-poller';
import { createFifoQueue, type TestFifoQueue } from '../rigs/aws-kit';
import { engagementRoutingFor, signedWebhookRequest, webhookChannel, webhookConfigFor } from '../rigs/webhook-rig';
import { createUsersTable, RIG_CAPILLARY_AUTH, RIG_CHANNEL, workerConfigFor } from '../rigs/worker-rig';
import type { ChaosChannel, ChaosServices } from './chaos-services';
import { crashingWorkerDeps, WorkerJournal } from './crashing-worker';
import { judgeEngagement, type EngagementFigures } from './engagement-oracle';
import { chaosEngagementSettings } from './engagement-scenario';
import { followDelays, historyKey, tapClaims, type FollowDelayFigures } from './follow-delays';
import { startIdentityMix, type IdentityFigures, type IdentityMix, type IdentityRunOptions } from './identity-run';
import { linkChannelsOf } from './identity-scenario';
import { watchIngestAnswers } from './ingest-answers';
import { asLambdaInvocation } from './lambda-sandbox';
import { personalDisplayName } from './log-scan';
import { judgeUsers, recordKey, type UserProblem } from './oracle';
import {
  deliveriesOf,
  type CrashPoint,
  type Deliveries,
  type Scenario,
  type UserHistory,
  type WebhookDelivery,
} from './scenario';
import { transitFigures, type TransitFigures } from './transit';

/** Timing of the worker fleet, kept in the order serverless.yml requires: function timeout < claim TTL < visibility timeout. */
export interface FleetSettings {
  /** Lambda instances polling at once, each with its own clients and caches */
  instances: number;
  functionTimeoutMs: number;
  claimTtlMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  capillaryTimeoutMs: number;
  /** webhook requests in flight at once */
  webhookConcurrency: number;
  /** gives up (and throws) when the queue has not drained by then */
  drainDeadlineMs: number;
}

/**
 * Timings short enough for a test to wait out several retries, ordered as serverless.yml requires. The
 * worker keeps 2 s of its function timeout for recording results, so 2.5 s leaves it half a second of
 * Capillary calls per batch.
 */
export const QUICK_FLEET: FleetSettings = {
  instances: 4,
  functionTimeoutMs: 2500,
  claimTtlMs: 2800,
  visibilityTimeoutSeconds: 3,
  maxReceiveCount: 6,
  capillaryTimeoutMs: 150,
  webhookConcurrency: 1,
  drainDeadlineMs: 60_000,
};

/** The figures of one channel (one LINE Official Account) of a run. */
export interface ChannelFigures {
  /** users with a history on this channel (a person following two channels counts on each) */
  users: number;
  events: number;
  eventsSent: number;
  redeliveries: number;
  requests: number;
  eventsAccepted: number;
  applied: number;
  skippedDuplicate: number;
  skippedStale: number;
  failedAttempts: number;
  lost: number;
}

export interface RunFigures {
  /** per channel: users, events and outcomes of that channel only */
  byChannel: Record<string, ChannelFigures>;
  /** LINE user ids with a history on more than one channel (channels of one provider share ids) */
  usersOnSeveralChannels: number;
  users: number;
  events: number;
  eventsSent: number;
  redeliveries: number;
  requests: number;
  /** answered 200, LINE's redeliveries of non-2xx requests included */
  requestsAccepted: number;
  eventsAccepted: number;
  /** distinct SQS messages the webhook created (SQS deduplicated the rest) */
  enqueued: number;
  receives: number;
  /** receives of a message that had been received before */
  retried: number;
  applied: number;
  skippedDuplicate: number;
  skippedStale: number;
  ignored: number;
  failedAttempts: number;
  /** failed attempts by error name */
  failureCauses: Record<string, number>;
  lambdaTimeouts: number;
  crashes: Record<CrashPoint, number>;
  /** messages that reached the DLQ (each was moved back and processed) */
  deadLettered: number;
  /** accepted events never applied, skipped or ignored (those left in the DLQ included) */
  lost: number;
  /** still in the DLQ after the last redrive round */
  leftInDlq: number;
  capillaryCalls: number;
  /** answered by an injected fault (the transit bound's refusals are counted in `transit`) */
  capillaryFaulted: number;
  /** calls to the stand-ins by their time in transit, and those not run for arriving past the bound (maxTransitMs) */
  transit: TransitFigures;
  /** link-lane outcomes */
  linked: number;
  unlinked: number;
  /** nonce refused (unknown, expired, used, another user's) */
  linkRejected: number;
  linkAttacks: number;
  /** add-customer calls whose folded form (opt-in inside, both profiles) was refused, each followed by the separate calls */
  foldedRefused: number;
  /** bulk upserts of a batch's new followers (lib/worker/bulk), answered or faulted */
  bulkUpserts: number;
  /** events the brand's backend sent through the link API instead of LINE (the identity mix) */
  viaLinkApi: number;
  /** the identity mix, when played */
  identity?: IdentityFigures;
  /** LINE engagement posted as Capillary behavioural events (engagement-oracle.ts) */
  engagement: EngagementFigures;
  /** follows and unfollows of people who tap against those of people who do not (follow-delays.ts) */
  followDelays: FollowDelayFigures;
}

export interface RunResult {
  figures: RunFigures;
  problems: UserProblem[];
  deliveries: Deliveries;
}

const LINE_REDELIVERY_ATTEMPTS = 5;
const DRAIN_POLL_MS = 100;
const MAX_REDRIVE_ROUNDS = 5;
/** The engagement queue's event source: a small fleet of its own (engagementMaxConcurrency as deployed). */
const ENGAGEMENT_INSTANCES = 2;

class Tally {
  readonly outcomes = new Map<string, number>();
  readonly linkedEventIds: string[] = [];
  readonly settledEventIds = new Set<string>();
  /** every settlement's outcome key ('failed' for a failed attempt), by event, for the per-channel figures */
  readonly settlements: {
    webhookEventId: string | undefined;
    key: string;
    cause?: string;
    /** the event whose claim turned this attempt back */
    heldBy?: string;
    at: number;
    outcome?: EventOutcome;
  }[] = [];
  failedAttempts = 0;
  readonly failureCauses: Record<string, number> = {};
  receives = 0;
  retried = 0;
  lambdaTimeouts = 0;

  readonly onSettled = ({ webhookEventId, outcome, error }: RecordSettled): void => {
    const key = outcome ? outcomeKey(outcome) : 'failed';
    this.settlements.push({ webhookEventId, key, cause: error?.name, heldBy: error?.heldBy, at: Date.now(), outcome });
    if (!outcome) {
      this.failedAttempts += 1;
      const cause = error?.name ?? 'unknown';
      this.failureCauses[cause] = (this.failureCauses[cause] ?? 0) + 1;
      return;
    }
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    if (webhookEventId !== undefined) this.settledEventIds.add(webhookEventId);
    if (key === 'link-linked' && webhookEventId !== undefined) this.linkedEventIds.push(webhookEventId);
  };

  count(key: string): number {
    return this.outcomes.get(key) ?? 0;
  }

  /** Each event's first settlement that was not a failure. */
  firstSettledAt(): Map<string, number> {
    const settledAt = new Map<string, number>();
    for (const { webhookEventId, key, at } of this.settlements)
      if (webhookEventId !== undefined && key !== 'failed' && !settledAt.has(webhookEventId))
        settledAt.set(webhookEventId, at);
    return settledAt;
  }

  /** The latest attempts, newest last: when the queue does not drain, the events still cycling and why. */
  recentAttempts(count: number): string {
    return this.settlements
      .slice(-count)
      .map(({ webhookEventId, key, cause }) => `${webhookEventId ?? '?'} ${cause ?? key}`)
      .join(', ');
  }

  /** Events whose last attempt failed (what the DLQ still holds), with their latest causes: evidence for a replay. */
  stillFailing(): UserProblem[] {
    const byEvent = new Map<string, { key: string; causes: string[] }>();
    for (const { webhookEventId, key, cause } of this.settlements) {
      if (webhookEventId === undefined) continue;
      const entry = byEvent.get(webhookEventId) ?? { key, causes: [] };
      entry.key = key;
      if (cause !== undefined) entry.causes.push(cause);
      byEvent.set(webhookEventId, entry);
    }
    return [...byEvent]
      .filter(([, { key }]) => key === 'failed')
      .map(([eventId, { causes }]) => ({
        userId: '-',
        channel: '-',
        kind: 'dead-letter' as const,
        detail: `${eventId}: ${causes.length} failed attempts, the last ${causes.slice(-3).join(', ')}`,
      }));
  }

  countPrefixed(prefix: string): number {
    return [...this.outcomes].filter(([key]) => key.startsWith(prefix)).reduce((sum, [, count]) => sum + count, 0);
  }
}

/** Two counts by key, added. */
function sumOf(first: ReadonlyMap<string, number>, second: ReadonlyMap<string, number>): Map<string, number> {
  const sum = new Map(first);
  for (const [key, count] of second) sum.set(key, (sum.get(key) ?? 0) + count);
  return sum;
}

const outcomeKey = (outcome: EventOutcome): string =>
  outcome.result === 'applied'
    ? 'applied'
    : outcome.result === 'link' ||
        outcome.result === 'identity' ||
        outcome.result === 'reattach' ||
        outcome.result === 'points' ||
        outcome.result === 'tier'
      ? `${outcome.result}-${outcome.action}`
      : `${outcome.result}-${outcome.reason}`;

/** Counts the distinct messages SendMessageBatch created: a deduplicated entry answers with the original MessageId. */
function webhookSqsClient(): { sqs: SQSClient; messageIds: Set<string> } {
  const sqs = createSqsClient();
  const messageIds = new Set<string>();
  sqs.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const successful = (result.output as { Successful?: { MessageId?: string }[] }).Successful ?? [];
      for (const entry of successful) if (entry.MessageId) messageIds.add(entry.MessageId);
      return result;
    },
    { step: 'initialize', name: 'countEnqueuedMessages' },
  );
  return { sqs, messageIds };
}

/**
 * Sends every request to its channel's URL signed with its channel's secret, re-sending one that was not
 * answered 200 as LINE does; returns the accepted event ids.
 */
async function deliverToWebhook(
  requests: Deliveries['requests'],
  config: WebhookConfig,
  sqs: SQSClient,
  concurrency: number,
  channels: readonly ChaosChannel[],
  accepted: Accepted,
  callApi?: (request: WebhookDelivery) => Promise<void>,
): Promise<void> {
  let next = 0;
  const sender = async () => {
    for (let index = next++; index < requests.length; index = next++) {
      if (requests[index]!.apiCall !== undefined) {
        await callApi?.(requests[index]!);
        continue;
      }
      const { channel, destination, events } = requests[index]!;
      const secret = channels.find((candidate) => candidate.id === channel)?.channelSecret;
      const request = signedWebhookRequest(callbackBody(events, destination), { secret, channel });
      for (let attempt = 1; attempt <= LINE_REDELIVERY_ATTEMPTS; attempt++) {
        const response = await handleWebhookRequest(request, { config, sqs });
        if (response.statusCode === 200) {
          accepted.requests += 1;
          accepted.events += events.length;
          accepted.eventsByChannel.set(channel, (accepted.eventsByChannel.get(channel) ?? 0) + events.length);
          for (const { webhookEventId } of events) {
            accepted.eventIds.add(webhookEventId);
            if (!accepted.firstAt.has(webhookEventId)) accepted.firstAt.set(webhookEventId, Date.now());
          }
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
}

interface Accepted {
  requests: number;
  eventIds: Set<string>;
  /** when the webhook first answered 200 for each event */
  firstAt: Map<string, number>;
  events: number;
  eventsByChannel: Map<string, number>;
}

/**
 * Moves the DLQ's messages back, as `npm run redrive` does. It must use fresh deduplication ids: the
 * real tool waits out SQS's 5-minute deduplication window instead, which a test run cannot.
 */
async function redriveDeadLetters(sqs: SQSClient, queue: TestFifoQueue, round: number): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (messages.length === 0) return moved;
    for (const message of messages) await moveBack(sqs, queue, message, round);
    moved += messages.length;
  }
}

async function moveBack(sqs: SQSClient, queue: TestFifoQueue, message: Message, round: number): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.queueUrl,
      MessageBody: message.Body,
      MessageGroupId: message.Attributes?.MessageGroupId,
      MessageDeduplicationId: `${message.Attributes?.MessageDeduplicationId}-redrive${round}`,
    }),
  );
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: message.ReceiptHandle }));
}

async function until(condition: () => Promise<boolean>, deadline: number, what: () => Promise<string>): Promise<void> {
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`the queue did not drain in time: ${await what()}`);
    await sleep(DRAIN_POLL_MS);
  }
}

async function readRecords(
  store: UserSyncStore,
  users: readonly UserHistory[],
): Promise<Map<string, UserSyncState | undefined>> {
  const records = new Map<string, UserSyncState | undefined>();
  const chunk = 25;
  for (let start = 0; start < users.length; start += chunk) {
    const slice = users.slice(start, start + chunk);
    const read = await Promise.all(slice.map((user) => store.read(user)));
    slice.forEach((user, index) => records.set(recordKey(user), read[index]));
  }
  return records;
}

interface PreparedBridge {
  queue: TestFifoQueue;
  /** the engagement events' own queue, as deployed */
  engagementQueue: TestFifoQueue;
  workerConfig: WorkerConfig;
  webhookConfig: WebhookConfig;
  /** the member customer of each user who links */
  members: Map<string, number>;
}

/** Each linking user is a store member with their own mobile number; the brand page made a nonce for each of their links. */
async function prepareLinks(
  services: ChaosServices,
  tableName: string,
  users: UserHistory[],
): Promise<Map<string, number>> {
  const nonces = new LinkNonceStore(services.dynamo, tableName);
  const members = new Map<string, number>();
  const expiresAt = Date.now() + 3600_000;
  for (const [index, user] of users.entries()) {
    if (user.links.length === 0 && !user.actions.includes('unlink')) continue;
    const mobile = `668${String(index).padStart(8, '0')}`;
    members.set(recordKey(user), services.capillary.addMember({ mobile }));
    for (const { nonce } of user.links) {
      await nonces.issueNonce(nonce, {
        userId: user.userId,
        destination: user.destination,
        customer: { kind: 'mobile', value: mobile },
        expiresAt,
      });
    }
  }
  return members;
}

async function nonceConsumers(
  dynamo: ChaosServices['dynamo'],
  tableName: string,
  users: UserHistory[],
): Promise<Map<string, string | undefined>> {
  const nonces = new LinkNonceStore(dynamo, tableName);
  const consumers = new Map<string, string | undefined>();
  for (const { nonce } of users.flatMap((user) => user.links)) {
    // A probe that can never consume: it reads who did.
    const { record } = await nonces.consume(nonce, 'oracle-probe', 0);
    consumers.set(nonce, record?.consumedBy);
  }
  return consumers;
}

/** The events queue and the engagement queue, each with its DLQ, as the fleet's timings require. */
function workerQueues(sqs: SQSClient, fleet: FleetSettings): Promise<[TestFifoQueue, TestFifoQueue]> {
  const create = () =>
    createFifoQueue(sqs, { maxReceiveCount: fleet.maxReceiveCount, visibilityTimeout: fleet.visibilityTimeoutSeconds });
  return Promise.all([create(), create()]);
}

/** Fresh stand-in state, LINE profiles for the users, a new queue and users table, and the configuration of both functions (every chaos channel). */
async function prepareBridge(
  services: ChaosServices,
  fleet: FleetSettings,
  users: UserHistory[],
  identity?: IdentityRunOptions,
): Promise<PreparedBridge> {
  const { capillary, line, secrets } = services;
  capillary.reset();
  line.reset();
  // A call the worker gave up on lands within the claim's margin or never, as deployed (docs/reliability.md).
  const maxTransitMs = fleet.claimTtlMs - fleet.functionTimeoutMs;
  for (const standIn of [capillary, line]) standIn.configure({ maxTransitMs });
  for (const user of users) line.setProfile(user.userId, { displayName: personalDisplayName(user.userId) });
  const [queue, engagementQueue] = await workerQueues(services.sqs, fleet);
  const engagement = chaosEngagementSettings(
    capillary.behaviouralEventsUrl,
    secrets.channels.map(({ id }) => id),
  );
  const tableName = await createUsersTable(services.dynamo);
  // The identity mix makes its own members and nonces (identity-play.ts).
  const members = identity ? new Map<string, number>() : await prepareLinks(services, tableName, users);
  const config = workerConfigFor(
    tableName,
    capillary.url,
    line.url,
    {
      timeoutMs: fleet.capillaryTimeoutMs,
      // Both folded forms on, so the single calls and, where a fault refuses them, their fallback are exercised.
      registerProfilesTogether: true,
      // A batch's new followers in one bulk upsert, a call taking one token (its faults: scenario.ts bulkUpsertFault).
      bulkCountsAs: 'request',
      auth: { ...RIG_CAPILLARY_AUTH, id: secrets.capillaryClientKey, secret: secrets.capillaryClientSecret },
      ...(identity ? { registrationMode: identity.registration } : {}),
    },
    secrets.channels.map(({ id, channelAccessToken, capillaryLineAccountId, provider }) => ({
      ...RIG_CHANNEL,
      id,
      channelAccessToken,
      capillaryLineAccountId,
      lineProvider: provider,
    })),
    [],
    identity ? { anonymousCustomer: identity.anonymousCustomer } : {},
  );
  return {
    queue,
    engagementQueue,
    workerConfig: {
      ...config,
      claimTtlSeconds: fleet.claimTtlMs / 1000,
      engagement,
    },
    webhookConfig: {
      ...webhookConfigFor(
        queue.queueUrl,
        secrets.channels.map(({ id, channelSecret, destination }) =>
          webhookChannel({ id, channelSecrets: [channelSecret], destination }),
        ),
      ),
      engagement: engagementRoutingFor(engagementQueue.queueUrl, engagement.rulesByChannel),
    },
    members,
  };
}

function usersOnSeveralChannels(users: readonly UserHistory[]): number {
  const channelsOf = new Map<string, Set<string>>();
  for (const user of users) channelsOf.set(user.userId, (channelsOf.get(user.userId) ?? new Set()).add(user.channel));
  return [...channelsOf.values()].filter((channels) => channels.size > 1).length;
}

/** Each channel's share of the run: its histories, requests and the settlements of its events. */
function channelFigures(
  deliveries: Deliveries,
  tally: Tally,
  accepted: { eventIds: Set<string>; eventsByChannel: Map<string, number> },
): Record<string, ChannelFigures> {
  const channelOf = new Map(
    deliveries.users.flatMap((user) => user.events.map((event) => [event.webhookEventId, user.channel] as const)),
  );
  const byChannel: Record<string, ChannelFigures> = {};
  const figuresOf = (channel: string) =>
    (byChannel[channel] ??= {
      users: 0,
      events: 0,
      eventsSent: 0,
      redeliveries: 0,
      requests: 0,
      eventsAccepted: accepted.eventsByChannel.get(channel) ?? 0,
      applied: 0,
      skippedDuplicate: 0,
      skippedStale: 0,
      failedAttempts: 0,
      lost: 0,
    });
  for (const user of deliveries.users) {
    const figures = figuresOf(user.channel);
    figures.users += 1;
    figures.events += user.events.length;
    figures.lost += user.events.filter(
      (event) => accepted.eventIds.has(event.webhookEventId) && !tally.settledEventIds.has(event.webhookEventId),
    ).length;
  }
  for (const request of deliveries.requests) {
    const figures = figuresOf(request.channel);
    figures.requests += 1;
    figures.eventsSent += request.events.length;
  }
  for (const figures of Object.values(byChannel)) figures.redeliveries = figures.eventsSent - figures.events;
  const counted: Partial<Record<string, keyof ChannelFigures>> = {
    applied: 'applied',
    'skipped-duplicate': 'skippedDuplicate',
    'skipped-stale': 'skippedStale',
    failed: 'failedAttempts',
  };
  for (const { webhookEventId, key } of tally.settlements) {
    const channel = webhookEventId === undefined ? undefined : channelOf.get(webhookEventId);
    const field = counted[key];
    if (channel !== undefined && field !== undefined) figuresOf(channel)[field] += 1;
  }
  return byChannel;
}

interface WorkerFleet {
  isDrained(): Promise<boolean>;
  batchesInFlight(): number;
  stop(): Promise<void>;
}

/**
 * One poller per Lambda instance, each instance with its own dependencies; the n-th received message arms the n-th
 * planned Capillary fault, and the n-th one of the engagement queue the n-th ingest fault (armed by every message,
 * ingest faults piled up faster than the few taps could meet them, and the ingest stayed down for a large run).
 */
function startWorkerFleet(
  services: ChaosServices,
  bridge: PreparedBridge,
  fleet: FleetSettings,
  scenario: Scenario,
  journal: WorkerJournal,
  tally: Tally,
): WorkerFleet {
  let received = 0;
  let tapsReceived = 0;
  const onBatchReceived = (records: SQSRecord[], fromEngagementQueue: boolean) => {
    for (const record of records) {
      tally.receives += 1;
      if (Number(record.attributes.ApproximateReceiveCount) > 1) tally.retried += 1;
      const ingestFault = fromEngagementQueue ? scenario.engagement?.ingestFaults[tapsReceived++] : undefined;
      if (ingestFault) services.capillary.injectFault(ingestFault);
      const fault = scenario.faults[received++];
      if (fault && 'form' in fault) services.capillary.refuseFoldedForm(fault);
      else if (fault && 'bulkRecordRejections' in fault) services.capillary.rejectFirstBulkRecords(fault);
      else if (fault) services.capillary.injectFault(fault);
    }
  };
  const startInstance = (queue: TestFifoQueue): QueuePoller => {
    const initialise = () => ({
      ...crashingWorkerDeps(bridge.workerConfig, services.dynamo, journal),
      onSettled: tally.onSettled,
    });
    let deps = initialise();
    return startQueuePoller({
      sqs: services.sqs,
      queueUrl: queue.queueUrl,
      queueArn: queue.queueArn,
      handler: asLambdaInvocation((event, context) => processSqsBatch(event, context, deps), fleet.functionTimeoutMs),
      context: () =>
        lambdaContext({ name: 'chaos-worker', memoryMb: 512, timeoutSeconds: fleet.functionTimeoutMs / 1000 }),
      concurrency: 1,
      waitTimeSeconds: 1,
      onBatchReceived: (records: SQSRecord[]) => onBatchReceived(records, queue === bridge.engagementQueue),
      onBatchSettled: (batch) => {
        if (batch.handlerError?.name === 'LambdaTimeoutError') tally.lambdaTimeouts += 1;
        // Lambda starts a fresh runtime after a crash or a timeout: module state (caches, learnt refusals) is gone.
        if (batch.handlerError) deps = initialise();
      },
    });
  };
  // Each queue's event source with its own instances; faults and crashes hit both alike.
  const instances = [
    ...Array.from({ length: fleet.instances }, () => startInstance(bridge.queue)),
    ...Array.from({ length: ENGAGEMENT_INSTANCES }, () => startInstance(bridge.engagementQueue)),
  ];
  return {
    isDrained: async () => (await Promise.all(instances.map((instance) => instance.isDrained()))).every(Boolean),
    batchesInFlight: () => instances.reduce((sum, instance) => sum + instance.inFlight(), 0),
    stop: async () => void (await Promise.all(instances.map((instance) => instance.stop()))),
  };
}

/** Waits until both queues are empty; whatever reached either DLQ meanwhile is moved back and waited for too. */
async function drainWithRedrive(
  sqs: SQSClient,
  queues: readonly TestFifoQueue[],
  workers: WorkerFleet,
  deadlineMs: number,
  tally: Tally,
): Promise<{ deadLettered: number; leftInDlq: number }> {
  const deadline = Date.now() + deadlineMs;
  const describeQueue = async () => {
    const depths = await Promise.all(queues.map(({ queueUrl }) => queueDepth(sqs, queueUrl)));
    return (
      `${JSON.stringify({ queues: depths, batchesInFlight: workers.batchesInFlight() })}; ` +
      `latest attempts: ${tally.recentAttempts(30)}`
    );
  };
  let deadLettered = 0;
  for (let round = 1; ; round++) {
    await until(workers.isDrained, deadline, describeQueue);
    const leftInDlq = totalOf(
      await depthOfQueues(
        sqs,
        queues.map(({ dlqUrl }) => dlqUrl),
      ),
    );
    if (leftInDlq === 0 || round > MAX_REDRIVE_ROUNDS) return { deadLettered, leftInDlq };
    for (const queue of queues) deadLettered += await redriveDeadLetters(sqs, queue, round);
  }
}

export async function playScenario(
  services: ChaosServices,
  fleet: FleetSettings,
  scenario: Scenario,
  identityOptions?: IdentityRunOptions,
): Promise<RunResult> {
  const channels = services.secrets.channels;
  // The identity mix plays on the clock (link API times, notification times) and links on one channel per provider.
  const deliveries = identityOptions
    ? deliveriesOf(scenario, channels, Date.now(), (channel) => linkChannelsOf(channels).has(channel.id))
    : deliveriesOf(scenario, channels);
  const bridge = await prepareBridge(services, fleet, deliveries.users, identityOptions);
  const journal = new WorkerJournal(scenario.crashes);
  const webhook = webhookSqsClient();
  const tally = new Tally();
  const identity: IdentityMix | undefined = identityOptions
    ? await startIdentityMix(
        services,
        deliveries,
        { tableName: bridge.workerConfig.tableName, queueUrl: bridge.queue.queueUrl, sqs: services.sqs },
        identityOptions,
      )
    : undefined;
  // Before the worker's clients are made: they take the fetch they will use when they are built.
  const ingestAnswers = watchIngestAnswers();
  const workers = startWorkerFleet(services, bridge, fleet, scenario, journal, tally);
  try {
    const accepted: Accepted = {
      requests: 0,
      eventIds: new Set(),
      firstAt: new Map(),
      events: 0,
      eventsByChannel: new Map(),
    };
    const dlq = { deadLettered: 0, leftInDlq: 0 };
    // Two rounds with the identity mix: Capillary acts at the quiet moment between them.
    for (const [round, requests] of (identity?.plan.rounds ?? [deliveries.requests]).entries()) {
      if (round > 0) identity?.atCut();
      await deliverToWebhook(
        requests,
        bridge.webhookConfig,
        webhook.sqs,
        fleet.webhookConcurrency,
        channels,
        accepted,
        identity?.callApi,
      );
      await identity?.settled();
      const drained = await drainWithRedrive(
        services.sqs,
        [bridge.queue, bridge.engagementQueue],
        workers,
        fleet.drainDeadlineMs,
        tally,
      );
      dlq.deadLettered += drained.deadLettered;
      dlq.leftInDlq = drained.leftInDlq;
    }
    const capillaryState = services.capillary.state();
    const records = await readRecords(
      new UserSyncStore(services.dynamo, bridge.workerConfig.tableName, 0),
      deliveries.users,
    );
    const consumers = await nonceConsumers(services.dynamo, bridge.workerConfig.tableName, deliveries.users);
    const problems = judgeUsers({
      users: deliveries.users,
      capillary: capillaryState,
      records,
      storeWrites: journal.storeWrites,
      lineAccountIds: Object.fromEntries(channels.map((channel) => [channel.id, channel.capillaryLineAccountId])),
      externalIdPrefix: bridge.workerConfig.capillary.externalIdPrefix,
      members: bridge.members,
      nonceConsumers: consumers,
      linkedEventIds: tally.linkedEventIds,
      identityMix: identity !== undefined,
    });
    const businessCalls = services.capillary.calls().filter((call) => call.path.startsWith('/v2/'));
    const judged = identity?.judge({
      capillary: capillaryState,
      records,
      nonceConsumers: consumers,
      outcomes: tally.outcomes,
      goneAnswers: businessCalls.filter((call) => call.errorCodes.some((code) => code === 8069 || code === 8109))
        .length,
    });
    problems.push(...(judged?.problems ?? []));
    const ingestCalls = services.capillary.calls().filter((call) => call.path.startsWith('/webhooks/'));
    const engagement = judgeEngagement(
      deliveries.engagement,
      services.capillary.state().behaviouralEvents.posted,
      ingestCalls.filter((call) => call.fault !== undefined).length,
      identity?.deletedUsers(),
      sumOf(ingestAnswers.lost, journal.postsNotRemembered),
    );
    const figures: RunFigures = {
      byChannel: channelFigures(deliveries, tally, accepted),
      usersOnSeveralChannels: usersOnSeveralChannels(deliveries.users),
      users: deliveries.users.length,
      events: deliveries.users.reduce((sum, user) => sum + user.events.length, 0),
      eventsSent: deliveries.sent,
      redeliveries: deliveries.redeliveries,
      requests: deliveries.requests.length,
      requestsAccepted: accepted.requests,
      eventsAccepted: accepted.events,
      enqueued: webhook.messageIds.size,
      receives: tally.receives,
      retried: tally.retried,
      applied: tally.count('applied'),
      skippedDuplicate: tally.count('skipped-duplicate'),
      skippedStale: tally.count('skipped-stale'),
      ignored: tally.count('ignored-unsupported-type') + tally.count('ignored-no-user-id'),
      failedAttempts: tally.failedAttempts,
      failureCauses: tally.failureCauses,
      lambdaTimeouts: tally.lambdaTimeouts,
      crashes: journal.crashes,
      ...dlq,
      lost: [...accepted.eventIds].filter((eventId) => !tally.settledEventIds.has(eventId)).length,
      capillaryCalls: businessCalls.length,
      capillaryFaulted: businessCalls.filter((call) => call.fault !== undefined && call.fault !== 'late').length,
      transit: transitFigures([...services.capillary.calls(), ...services.line.calls()]),
      linked: tally.count('link-linked'),
      unlinked: tally.count('link-unlinked') + tally.count('link-not-linked'),
      linkRejected: tally.countPrefixed('rejected-'),
      linkAttacks: deliveries.attacks,
      foldedRefused: businessCalls.filter((call) => call.errorCodes.includes(400) || call.warningCodes.includes(91022))
        .length,
      bulkUpserts: businessCalls.filter((call) => call.path.startsWith('/v2/integrations/customer/upsert/bulk')).length,
      viaLinkApi: (identity?.plan.rounds.flat() ?? []).filter((request) => request.apiCall !== undefined).length,
      ...(judged ? { identity: judged.figures } : {}),
      engagement: engagement.figures,
      followDelays: followDelays(
        deliveries.users,
        new Set(deliveries.engagement.filter((event) => event.eventName !== undefined).map(historyKey)),
        { acceptedAt: accepted.firstAt, settledAt: tally.firstSettledAt() },
        { attempts: tally.settlements, tapClaims: tapClaims(journal.storeWrites) },
      ),
    };
    const deadLetters = dlq.leftInDlq > 0 ? tally.stillFailing() : [];
    const result = { figures, problems: [...problems, ...engagement.problems, ...deadLetters], deliveries };
    if (process.env.CHAOS_TRACE_FILE)
      writeTrace(process.env.CHAOS_TRACE_FILE, result, tally, journal, services.capillary.calls());
    return result;
  } finally {
    ingestAnswers.stop();
    await workers.stop();
    await identity?.close();
    webhook.sqs.destroy();
  }
}

/**
 * CHAOS_TRACE_FILE=<path>: the run's events per user, every settlement, every record write and every Capillary call (user ids masked as
 * the bridge's logs mask them), to follow one failing user's history by hand.
 */
function writeTrace(
  path: string,
  result: RunResult,
  tally: Tally,
  journal: WorkerJournal,
  calls: readonly unknown[],
): void {
  const users = result.deliveries.users.map((user) => ({
    user: maskUserId(user.userId),
    channel: user.channel,
    events: user.events.map((event, index) => ({
      id: event.webhookEventId,
      timestamp: event.timestamp,
      action: user.actions[index],
    })),
  }));
  const problems = result.problems.map((problem) => ({ ...problem, userId: maskUserId(problem.userId) }));
  const storeWrites = journal.storeWrites.map(({ before, ...write }) => ({
    ...write,
    userId: maskUserId(write.userId),
    before: before && { customerId: before.customerId, linkedCustomerId: before.linkedCustomerId },
  }));
  writeFileSync(path, JSON.stringify({ users, settlements: tally.settlements, storeWrites, calls, problems }));
}
