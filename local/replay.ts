/**
 * Replays LINE callback bodies the way LINE delivers them: signed over their exact bytes, POSTed to a
 * webhook URL. Against the local pipeline it then waits until the worker is done (the events queue is
 * drained) and reports what happened to each event and to each user touched; against any other URL
 * (a deployed stage) it reports the HTTP answers only.
 */
import { isRecord } from '../lib/is-record';
import { parseCallback, type LineWebhookEvent } from '../lib/line/callback';
import { maskUserId } from '../lib/observability/telemetry';
import type { EventOutcome } from '../lib/worker/handle-queued-event';
import { webhookEventId } from './line-event-factory';
import {
  PipelineAdminClient,
  type EventAttempt,
  type LocalPipelineStatus,
  type UserRecords,
} from './pipeline-admin-api';
import type { SampleBody } from './sample-events';
import { signLineBody } from './sign-line-body';
import { customersWithIdentifier, type CapillaryState, type CustomerSnapshot } from './standins/capillary-standin';
import { alignColumns } from './text-table';

export interface ReplayOptions {
  bodies: SampleBody[];
  url: string;
  secret: string;
  /** sign with a wrong secret, to see the webhook refuse it */
  tamper: boolean;
  /** how long to wait for the local worker to finish */
  waitSeconds: number;
  /** progress lines while a large replay runs */
  progress: (line: string) => void;
}

export interface PostedBody {
  name: string;
  status: number;
  /** the webhook's answer, e.g. { enqueued: 3 } or { message } */
  answer: Record<string, unknown>;
  /** present when the body is a well-formed LINE callback */
  destination?: string;
  events: LineWebhookEvent[];
}

export type EventFate =
  | { kind: 'not-enqueued'; status: number }
  /** accepted by the webhook, never delivered to the worker: SQS FIFO dropped it as a duplicate */
  | { kind: 'deduplicated' }
  | { kind: 'settled'; outcome?: EventOutcome; failedAttempts: EventAttempt[] }
  | { kind: 'dead-lettered'; failedAttempts: EventAttempt[] }
  /** the wait ended first */
  | { kind: 'unfinished'; failedAttempts: EventAttempt[] };

export interface ReplayedEvent {
  label: string;
  event: LineWebhookEvent;
  fate: EventFate;
}

export interface ReplayedUser {
  userId: string;
  destination: string;
  /** every Capillary customer holding this LINE user id; undefined when Capillary is the real service */
  customers?: CustomerSnapshot[];
  record: UserRecords[string];
}

export interface WorkerReport {
  /** the pipeline when the wait ended */
  status: LocalPipelineStatus;
  waitedMs: number;
  events: ReplayedEvent[];
  users: ReplayedUser[];
}

export interface ReplayReport {
  url: string;
  tamper: boolean;
  bodies: PostedBody[];
  /** undefined when the URL is not a local pipeline */
  worker?: WorkerReport;
  /** the channels the local pipeline serves (undefined when the URL is not a local pipeline) */
  channels?: LocalPipelineStatus['channels'];
}

/**
 * `--fresh`: the same bodies as events LINE has not sent yet, so neither SQS FIFO's 5-minute deduplication (same
 * webhookEventId) nor the worker's stale-event guard (older timestamp) sets them aside on a second replay. Each
 * webhookEventId gets a new one (events that shared an id still share one: a redelivery stays a redelivery), and the
 * timestamps move so the latest is `now`, keeping their order and spacing. The bodies are re-serialised, then
 * signed as usual. A body that is not JSON is posted unchanged.
 */
export function asNewEvents(bodies: SampleBody[], now: number): SampleBody[] {
  const parsed = bodies.map((body) => {
    try {
      const value: unknown = JSON.parse(body.bytes.toString('utf8'));
      return isRecord(value) && Array.isArray(value.events)
        ? { body, callback: value, events: value.events.filter(isRecord) }
        : { body };
    } catch {
      return { body };
    }
  });
  const timestamps = parsed
    .flatMap(({ events = [] }) => events.map((event) => event.timestamp))
    .filter((time): time is number => typeof time === 'number');
  const shift = timestamps.length === 0 ? 0 : now - Math.max(...timestamps);
  const newIds = new Map<unknown, string>();
  return parsed.map(({ body, callback, events }) => {
    if (callback === undefined || events === undefined) return body;
    for (const event of events) {
      if (typeof event.timestamp === 'number') event.timestamp += shift;
      if (!newIds.has(event.webhookEventId)) newIds.set(event.webhookEventId, webhookEventId());
      event.webhookEventId = newIds.get(event.webhookEventId);
    }
    return { name: body.name, bytes: Buffer.from(JSON.stringify(callback)) };
  });
}

const POLL_INTERVAL_MS = 200;
const WRONG_SECRET_SUFFIX = '-tampered';

function callbackOf(bytes: Buffer): { destination?: string; events: LineWebhookEvent[] } {
  try {
    return parseCallback(bytes);
  } catch {
    return { events: [] }; // still posted as is: the webhook's answer to it is the point
  }
}

async function post(body: SampleBody, options: ReplayOptions): Promise<PostedBody> {
  const secret = options.tamper ? `${options.secret}${WRONG_SECRET_SUFFIX}` : options.secret;
  const response = await fetch(options.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'LineBotWebhook/2.0',
      'x-line-signature': signLineBody(body.bytes, secret),
    },
    body: body.bytes,
  });
  const text = await response.text();
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = { message: text };
  }
  return { name: body.name, status: response.status, answer, ...callbackOf(body.bytes) };
}

const eventLabel = (body: PostedBody, index: number) =>
  body.events.length > 1 ? `${body.name} #${index + 1}` : body.name;

/**
 * A LINE redelivery reuses the webhookEventId, and each message SQS accepted has its own messageId:
 * the n-th posting of an event id is matched to the n-th message delivered for it.
 */
function fatesOf(bodies: PostedBody[], attempts: EventAttempt[], drained: boolean): ReplayedEvent[] {
  const messagesByEvent = new Map<string, EventAttempt[][]>();
  for (const attempt of attempts) {
    if (attempt.webhookEventId === undefined) continue;
    const messages = messagesByEvent.get(attempt.webhookEventId) ?? [];
    const message = messages.find((candidate) => candidate[0]?.messageId === attempt.messageId);
    if (message) message.push(attempt);
    else messages.push([attempt]);
    messagesByEvent.set(attempt.webhookEventId, messages);
  }
  return bodies.flatMap((body) =>
    body.events.map((event, index): ReplayedEvent => {
      const label = eventLabel(body, index);
      if (body.status < 200 || body.status > 299)
        return { label, event, fate: { kind: 'not-enqueued', status: body.status } };
      const message = messagesByEvent.get(event.webhookEventId)?.shift() ?? [];
      const last = message.at(-1);
      const failedAttempts = message.filter((attempt) => !attempt.deleted);
      if (last?.deleted) return { label, event, fate: { kind: 'settled', outcome: last.outcome, failedAttempts } };
      if (!drained) return { label, event, fate: { kind: 'unfinished', failedAttempts } };
      // Drained: a failed message no longer in the queue was moved to the DLQ by SQS.
      return {
        label,
        event,
        fate: last === undefined ? { kind: 'deduplicated' } : { kind: 'dead-lettered', failedAttempts },
      };
    }),
  );
}

async function capillaryState(status: LocalPipelineStatus): Promise<CapillaryState | undefined> {
  const { capillary } = status.endpoints;
  if (!capillary.standIn) return undefined;
  const response = await fetch(`${capillary.url}/__admin/state`);
  return (await response.json()) as CapillaryState;
}

async function usersOf(
  admin: PipelineAdminClient,
  status: LocalPipelineStatus,
  bodies: PostedBody[],
): Promise<ReplayedUser[]> {
  const usersByDestination = new Map<string, Set<string>>();
  for (const { destination, events } of bodies) {
    if (destination === undefined) continue;
    const users = usersByDestination.get(destination) ?? new Set<string>();
    for (const event of events) if (event.source?.userId !== undefined) users.add(event.source.userId);
    usersByDestination.set(destination, users);
  }
  const capillary = await capillaryState(status);
  const holders = (userId: string) =>
    capillary === undefined ? undefined : customersWithIdentifier(capillary, 'line', userId);
  const perDestination = await Promise.all(
    [...usersByDestination].map(async ([destination, userIds]) => {
      const records = userIds.size === 0 ? {} : await admin.userRecords(destination, [...userIds]);
      return [...userIds].map((userId): ReplayedUser => ({
        userId,
        destination,
        customers: holders(userId),
        record: records[userId] ?? null,
      }));
    }),
  );
  return perDestination.flat();
}

/** Progress is printed once the wait is noticeable, when it changes, and at least this often while nothing moves. */
const PROGRESS_AFTER_MS = 1000;
const PROGRESS_HEARTBEAT_MS = 10_000;

async function waitForWorker(
  admin: PipelineAdminClient,
  since: LocalPipelineStatus,
  options: Pick<ReplayOptions, 'waitSeconds' | 'progress'>,
): Promise<{ status: LocalPipelineStatus; waitedMs: number }> {
  const started = Date.now();
  let lastProgress = { text: '', at: started };
  for (;;) {
    const status = await admin.status();
    const waitedMs = Date.now() - started;
    if (status.drained || waitedMs > options.waitSeconds * 1000) return { status, waitedMs };
    const { visible, notVisible, delayed } = status.queue;
    const text =
      `worker: ${status.poller.deleted - since.poller.deleted} message(s) done, ${status.poller.failed - since.poller.failed} failed attempt(s); ` +
      `queue: ${visible} waiting, ${notVisible} in flight or awaiting a retry, ${delayed} delayed`;
    if (
      waitedMs >= PROGRESS_AFTER_MS &&
      (text !== lastProgress.text || Date.now() - lastProgress.at >= PROGRESS_HEARTBEAT_MS)
    ) {
      lastProgress = { text, at: Date.now() };
      options.progress(`${text} (${Math.round(waitedMs / 1000)} s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/**
 * Waits until the local worker is done with the events of these bodies (queued since `before`), then tells what
 * became of each and of each user they touch. Used after a replay's posts, and after a redrive's moves.
 */
export async function followEvents(
  admin: PipelineAdminClient,
  before: LocalPipelineStatus,
  bodies: PostedBody[],
  options: Pick<ReplayOptions, 'waitSeconds' | 'progress'>,
): Promise<WorkerReport> {
  const { status, waitedMs } = await waitForWorker(admin, before, options);
  const attempts = await admin.attemptsSince(before.lastAttemptSeq);
  return {
    status,
    waitedMs,
    events: fatesOf(bodies, attempts, status.drained),
    users: await usersOf(admin, status, bodies),
  };
}

export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const admin = new PipelineAdminClient(options.url);
  const before = await admin.probe();
  const bodies: PostedBody[] = [];
  // In order, one at a time: the samples tell a story (follow, then unfollow, …).
  for (const body of options.bodies) {
    bodies.push(await post(body, options));
    if (options.bodies.length >= 20 && bodies.length % 10 === 0)
      options.progress(`posted ${bodies.length}/${options.bodies.length} bodies`);
  }
  if (before === undefined) return { url: options.url, tamper: options.tamper, bodies };
  return {
    url: options.url,
    tamper: options.tamper,
    bodies,
    channels: before.channels,
    worker: await followEvents(admin, before, bodies, options),
  };
}

/** What the caller should treat as a failed replay: unexpected HTTP answers, or a worker that did not finish. */
export function replayProblems(report: ReplayReport): string[] {
  const expected = (status: number) => (report.tamper ? status === 401 : status >= 200 && status <= 299);
  const problems = report.bodies
    .filter(({ status }) => !expected(status))
    .map((body) => `${body.name}: HTTP ${body.status}${channelHint(body, report.channels)}`);
  if (report.worker && !report.worker.status.drained)
    problems.push(`the worker was not done after ${Math.round(report.worker.waitedMs / 1000)} s`);
  return problems;
}

/**
 * The fix for a body posted to the wrong channel: its bot belongs to another channel (400 unexpected destination), or
 * the URL names no channel (404): the channels the pipeline serves.
 */
function channelHint(body: PostedBody, channels: ReplayReport['channels']): string {
  if (channels === undefined) return '';
  if (body.status === 404)
    return ` (no such channel: the pipeline serves ${channels.map(({ id }) => id).join(', ')}; pick one with --channel <id>)`;
  const owner = channels.find(({ destination }) => destination !== undefined && destination === body.destination);
  if (body.status === 400 && owner !== undefined)
    return ` (its destination is channel ${owner.id}'s bot: add --channel ${owner.id})`;
  return '';
}

// ---- the printed report ----

const shortId = (userId: string | undefined) => (userId === undefined ? '-' : `${userId.slice(0, 9)}…`);

const table = (rows: string[][]): string[] => alignColumns(rows).map((line) => `  ${line}`);

const SKIPPED_BECAUSE = {
  duplicate: 'duplicate (already applied)',
  stale: 'stale (a newer event was already applied)',
  registered: 'the user has a customer now (retried without a claim)',
};

function describeOutcome(outcome: EventOutcome | undefined): string {
  if (outcome === undefined) return 'done (no outcome reported)';
  switch (outcome.result) {
    case 'applied':
      return `applied: ${outcome.action} → ${outcome.subscription}${outcome.customerId === undefined ? ', no Capillary customer' : `, customer ${outcome.customerId}`}`;
    case 'skipped':
      return `skipped: ${SKIPPED_BECAUSE[outcome.reason]}`;
    case 'ignored':
      return `ignored: ${outcome.reason}`;
    case 'link':
      return `link: ${outcome.action}${outcome.customerId === undefined ? '' : `, member ${outcome.customerId}`}${outcome.detail ? ` (${outcome.detail})` : ''}`;
    case 'rejected':
      return `link rejected: ${outcome.reason}`;
    case 'identity':
      return `Capillary identity change: ${outcome.action}${outcome.customerId === undefined ? '' : `, customer ${outcome.customerId}`}`;
    case 'reattach':
      return `drift repair: ${outcome.action}${outcome.customerId === undefined ? '' : `, customer ${outcome.customerId}`}${outcome.detail ? ` (${outcome.detail})` : ''}`;
    case 'engagement':
      return `engagement ${outcome.event}: ${outcome.reason}`;
    case 'points':
      return `points: ${outcome.action}`;
    case 'tier':
      return `Capillary tier change: menu ${outcome.action}`;
  }
}

function describeFailures(failed: EventAttempt[]): string {
  const last = failed.at(-1);
  return last?.error
    ? `failed ×${failed.length} (last: ${last.error.name}: ${last.error.message})`
    : `failed ×${failed.length}`;
}

function describeFate(fate: EventFate, status: LocalPipelineStatus): string {
  switch (fate.kind) {
    case 'not-enqueued':
      return `not enqueued (HTTP ${fate.status})`;
    case 'deduplicated':
      return 'not delivered again: SQS FIFO deduplicated it (same webhookEventId within 5 minutes)';
    case 'settled':
      return fate.failedAttempts.length === 0
        ? describeOutcome(fate.outcome)
        : `${describeFailures(fate.failedAttempts)} → retried → ${describeOutcome(fate.outcome)}`;
    case 'dead-lettered':
      return `${describeFailures(fate.failedAttempts)} → in DLQ ${status.queues.deadLetterQueueName}`;
    case 'unfinished':
      return fate.failedAttempts.length === 0
        ? 'not processed yet'
        : `${describeFailures(fate.failedAttempts)} → still retrying`;
  }
}

/** The LINE subscriptions of each account the customer has a LINE profile in, named by the pipeline's channel. */
function describeLineAccounts(customer: CustomerSnapshot, channels: LocalPipelineStatus['channels']): string {
  const accounts = [
    ...new Set(customer.profiles.filter((profile) => profile.source === 'LINE').map((profile) => profile.accountId)),
  ];
  return (
    accounts
      .map((accountId) => {
        const channel =
          channels.find((candidate) => candidate.capillaryLineAccountId === accountId)?.id ?? `account ${accountId}`;
        const states = customer.subscriptions
          .filter((subscription) => subscription.channel === 'LINE' && subscription.accountId === accountId)
          .map((subscription) => `${subscription.priority} ${subscription.type}`)
          .sort()
          .join(', ');
        return `LINE ${channel}: ${states || 'no subscription'}`;
      })
      .join('; ') || 'no LINE profile'
  );
}

export function describeCustomers(
  customers: CustomerSnapshot[] | undefined,
  channels: LocalPipelineStatus['channels'],
): string {
  if (customers === undefined) return 'real Capillary: not inspected';
  if (customers.length === 0) return 'no customer';
  return (
    customers
      .map((customer) => {
        const sources = customer.profiles.map((profile) => profile.source).join('+');
        return `customer ${customer.id} (${sources}), ${describeLineAccounts(customer, channels)}`;
      })
      .join(' | ') + (customers.length > 1 ? `  ← ${customers.length} customers hold this LINE user` : '')
  );
}

export function describeRecord(record: ReplayedUser['record']): string {
  if (record === null) return 'no record';
  const customer = record.customerId === undefined ? 'no customer' : `customer ${record.customerId}`;
  const link =
    record.link === undefined
      ? ''
      : `, link ${record.link.status}${record.link.detail ? ` (${record.link.detail})` : ''}` +
        (record.linkedCustomerId === undefined ? '' : ` to member ${record.linkedCustomerId}`);
  return `${customer}, ${record.subscription ?? 'no subscription'}${link}, last event ${record.lastEventId ?? '-'}`;
}

export function formatReplayReport(report: ReplayReport): string {
  const lines: string[] = [];
  const enqueued = report.bodies.reduce(
    (sum, body) => sum + (typeof body.answer.enqueued === 'number' ? body.answer.enqueued : 0),
    0,
  );
  lines.push(`POST ${report.url}${report.tamper ? ' (wrong signature on purpose)' : ''}`);
  lines.push(
    ...table(
      report.bodies.map((body) => [
        body.name,
        `HTTP ${body.status}`,
        typeof body.answer.enqueued === 'number'
          ? `enqueued ${body.answer.enqueued}`
          : String(body.answer.message ?? ''),
      ]),
    ),
  );
  lines.push(`  ${report.bodies.length} request(s), ${enqueued} event(s) enqueued`);

  if (report.worker === undefined) {
    lines.push(
      '',
      'Not a local pipeline: only the HTTP answers are reported (check the deployed worker in its logs and metrics).',
    );
    return `${lines.join('\n')}\n`;
  }
  return `${[...lines, '', formatWorkerReport(report.worker)].join('\n')}`;
}

/** What the worker did with each event, then each user's Capillary and DynamoDB state. */
export function formatWorkerReport(worker: WorkerReport): string {
  const lines: string[] = [];
  const { status } = worker;
  const seconds = (worker.waitedMs / 1000).toFixed(1);
  lines.push(
    status.drained
      ? `Worker (queue drained after ${seconds} s; DLQ holds ${status.deadLetterMessages} message(s))`
      : `Worker (gave up waiting after ${seconds} s: ${status.queue.visible + status.queue.notVisible} message(s) still queued)`,
  );
  if (worker.events.length === 0) lines.push('  no events');
  lines.push(
    ...table(
      worker.events.map(({ label, event, fate }) => [
        label,
        event.webhookEventId,
        event.type,
        shortId(event.source?.userId),
        describeFate(fate, status),
      ]),
    ),
  );
  if (worker.users.length > 0) {
    lines.push('', 'Users');
    for (const user of worker.users) {
      lines.push(`  ${user.userId} (logs: ${maskUserId(user.userId)})`);
      lines.push(`    Capillary  ${describeCustomers(user.customers, status.channels)}`);
      lines.push(`    DynamoDB   ${describeRecord(user.record)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
