/**
 * Figure 6: the AWS bill per million follow events, from what the other figures measured (calls per
 * event, handler CPU, worker batch durations), the deployed memory sizes and batch size, and the list
 * prices in aws-prices.json. Capillary and LINE are not AWS costs and are left out; so are fixed
 * monthly costs that do not grow with events (the event source's empty long polls, alarms, storage).
 */
import prices from './aws-prices.json';
import type { Deployment } from './deployment';
import { round } from './stats';
import { renderTable } from './table';
import type { ServiceCalls } from './worker-economy';

/** LINE delivers a follow in a webhook request of its own; a body carrying several events would only cost less. */
const EVENTS_PER_WEBHOOK = 1;
/** A SendMessageBatch round trip within the region. The bench answers SQS in-process, so this is assumed, not measured. */
const SQS_ROUND_TRIP_MS = 10;
/** Lambda allots CPU in proportion to memory, one full vCPU at 1,769 MB (taken as this machine's core). */
const FULL_VCPU_MB = 1769;
/** The event source mapping receives each batch, then deletes it: ReceiveMessage + DeleteMessageBatch. */
const SQS_CALLS_PER_WORKER_BATCH = 2;

interface CostInputs {
  deployment: Deployment;
  /** median CPU of the webhook handler for a one-event body */
  webhookCpuMicros: number;
  sqsCallsPerWebhook: number;
  /** calls of a new follower in the deployed registration mode */
  newFollower: ServiceCalls;
  /** worker billed seconds per event (batch wall time ÷ events, pacing waits included), per rate limit */
  workerSecondsPerEvent: Record<string, number>;
  /** the shared rate limiter's DynamoDB writes per Capillary call, per rate limit */
  limiterWritesPerCapillaryCall: Record<string, number>;
  /** events per worker invocation: full batches while a backlog drains (the default), 1 when each arrives alone */
  eventsPerWorkerInvocation?: number;
}

const COST_LINES = [
  'apiGatewayRequests',
  'webhookInvocations',
  'webhookDuration',
  'sqsRequests',
  'workerInvocations',
  'workerDuration',
  'dynamoDbWrites',
  'dynamoDbReads',
] as const;
type CostLine = (typeof COST_LINES)[number];

export interface CostPer1M {
  region: string;
  pricesLookedUp: string;
  assumptions: Record<string, number>;
  /** USD per million follow events, per line, per Capillary rate limit (only the worker's duration depends on it) */
  breakdown: Record<CostLine, Record<string, number>>;
  total: Record<string, number>;
}

const { prices: price } = prices;
const PER_MILLION = 1_000_000;

export function costPer1M(inputs: CostInputs): CostPer1M {
  const {
    deployment,
    webhookCpuMicros,
    sqsCallsPerWebhook,
    newFollower,
    workerSecondsPerEvent,
    limiterWritesPerCapillaryCall,
  } = inputs;
  const { webhook, worker } = deployment;
  const eventsPerWorkerInvocation = inputs.eventsPerWorkerInvocation ?? deployment.workerBatchSize;
  const gigabytes = (memoryMb: number) => memoryMb / 1024;
  // Lambda bills whole milliseconds per invocation; at 256 MB the handler gets a fraction of a vCPU.
  const webhookBilledMs = Math.ceil(
    (webhookCpuMicros / 1000) * Math.max(1, FULL_VCPU_MB / webhook.memoryMb) + SQS_ROUND_TRIP_MS,
  );
  const webhooksPerEvent = 1 / EVENTS_PER_WEBHOOK;
  const workerInvocationsPerEvent = 1 / eventsPerWorkerInvocation;

  const perLimit = (workerSeconds: number, limiterWritesPerCall: number): Record<CostLine, number> => ({
    apiGatewayRequests: webhooksPerEvent * price.apiGatewayHttpApiPerMillionRequests.usd,
    webhookInvocations: webhooksPerEvent * price.lambdaPerMillionRequests.usd,
    webhookDuration:
      webhooksPerEvent *
      (webhookBilledMs / 1000) *
      gigabytes(webhook.memoryMb) *
      PER_MILLION *
      price.lambdaArm64PerGbSecond.usd,
    sqsRequests:
      (webhooksPerEvent * sqsCallsPerWebhook + SQS_CALLS_PER_WORKER_BATCH * workerInvocationsPerEvent) *
      price.sqsFifoPerMillionRequests.usd,
    workerInvocations: workerInvocationsPerEvent * price.lambdaPerMillionRequests.usd,
    workerDuration: workerSeconds * gigabytes(worker.memoryMb) * PER_MILLION * price.lambdaArm64PerGbSecond.usd,
    dynamoDbWrites:
      (newFollower.dynamoWrites + newFollower.capillary * limiterWritesPerCall) *
      price.dynamoDbOnDemandPerMillionWriteRequestUnits.usd,
    dynamoDbReads: newFollower.dynamoReads * price.dynamoDbOnDemandPerMillionReadRequestUnits.usd,
  });
  const byLimit = Object.entries(workerSecondsPerEvent).map(
    ([limit, seconds]) => [limit, perLimit(seconds, limiterWritesPerCapillaryCall[limit] ?? NaN)] as const,
  );
  const perLimitOf = (usdOf: (lines: Record<CostLine, number>) => number, digits: number) =>
    Object.fromEntries(byLimit.map(([limit, lines]) => [limit, round(usdOf(lines), digits)]));
  return {
    region: prices.region,
    pricesLookedUp: prices.lookedUp,
    assumptions: {
      eventsPerWebhook: EVENTS_PER_WEBHOOK,
      sqsRoundTripMs: SQS_ROUND_TRIP_MS,
      webhookBilledMs,
      eventsPerWorkerInvocation,
      fullVcpuMb: FULL_VCPU_MB,
    },
    breakdown: Object.fromEntries(
      COST_LINES.map((line) => [line, perLimitOf((lines) => lines[line], 4)]),
    ) as CostPer1M['breakdown'],
    total: perLimitOf((lines) => COST_LINES.reduce((sum, line) => sum + lines[line], 0), 2),
  };
}

/** The same bill when followers arrive below the limit (one per invocation, nobody waits), beside the backlog's. */
export interface BelowLimitCost {
  cost: CostPer1M;
  rateLimitPerMinute: number;
  shareOfCapacity: number;
}

/** The bill at the burst's limit (figure 5c) with the live bulk registration, per way a bulk call counts. */
export interface BulkCost {
  request: number;
  record: number;
}

export function costTable(
  cost: CostPer1M,
  workerConcurrency: number,
  variant: string,
  totalByVariant: Record<string, number>,
  belowLimit: BelowLimitCost,
  withBulk: BulkCost,
): string {
  const limits = Object.keys(cost.total);
  const [firstLimit] = limits;
  const below = String(belowLimit.rateLimitPerMinute);
  return renderTable(
    `Figure 6 — AWS cost per 1M follow events, USD (${cost.region} list prices looked up ${cost.pricesLookedUp}; ${variant}; ` +
      `worker at ${workerConcurrency} instances draining a backlog; webhook billed ${cost.assumptions.webhookBilledMs} ms incl. an assumed ${cost.assumptions.sqsRoundTripMs} ms SQS round trip)`,
    [
      'line',
      ...limits.map((limit) => `at ${limit} Capillary calls/min`),
      `at ${below}/min, followers arriving at ${Math.round(belowLimit.shareOfCapacity * 100)} % of what it carries`,
    ],
    [
      ...Object.entries(cost.breakdown).map(([line, usd]) => [
        line,
        ...limits.map((limit) => usd[limit] ?? 0),
        belowLimit.cost.breakdown[line as keyof CostPer1M['breakdown']][below] ?? 0,
      ]),
      ['total', ...limits.map((limit) => cost.total[limit] ?? 0), belowLimit.cost.total[below] ?? 0],
      ...Object.entries(totalByVariant).map(([name, usd]) => [
        `total, ${name}`,
        ...limits.map((limit) => (limit === firstLimit ? usd : '–')),
        '–',
      ]),
      ['total, bulk registration, a call counts once', withBulk.request, ...limits.slice(1).map(() => '–'), '–'],
      ['total, bulk registration, a call counts per record', withBulk.record, ...limits.slice(1).map(() => '–'), '–'],
    ],
  );
}
