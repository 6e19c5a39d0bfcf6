/**
 * The running local pipeline's JSON admin API (`/__local/…` on the webhook server) and a client
 * for it, shared by the pipeline and the tools that drive it from another process (replay, fault, the
 * tests). Kept free of the pipeline's own imports so those tools start fast.
 */
import { CHANNEL_LIST_VARIABLES, DEFAULT_CHANNEL_ID, SINGLE_CHANNEL_VARIABLES } from '../lib/config/channels';
import type { Env } from '../lib/config/env-reader';
import type { UserSyncState } from '../lib/domain/sync-rules';
import type { EventOutcome } from '../lib/worker/handle-queued-event';
import type { PollerCounters, QueueDepth } from './queue-poller';
import { LOCAL_WEBHOOK_PATH, localChannelsSetting } from './sample-events';

export const PIPELINE_ID = 'line-capillary-bridge-local-pipeline';
export const LOCAL_ADMIN_PREFIX = '/__local/';

export interface LocalPorts {
  webhook: number;
  sqs: number;
  dynamodb: number;
  capillary: number;
  line: number;
  /** the brand login page stand-in (linking) */
  brand: number;
}

/** serverless.yml's `params.local` URLs use these, so `sls invoke local --stage local` reaches a running `npm start`. */
export const DEFAULT_LOCAL_PORTS: LocalPorts = {
  webhook: 3000,
  sqs: 4566,
  dynamodb: 8000,
  capillary: 8090,
  line: 8091,
  brand: 8092,
};
export const DEFAULT_WEBHOOK_URL = `http://127.0.0.1:${DEFAULT_LOCAL_PORTS.webhook}${LOCAL_WEBHOOK_PATH}`;

export interface ServiceEndpoint {
  url: string;
  /** true = a local stand-in with /__admin routes; false = the configured real service */
  standIn: boolean;
}

export interface LocalEndpoints {
  webhookUrl: string;
  adminUrl: string;
  sqs: string;
  dynamodb: string;
  capillary: ServiceEndpoint;
  line: ServiceEndpoint;
  /** POST <this>/nonce | /id-token | /unlink */
  linkApiUrl: string;
  /** the brand login page stand-in; LINK_PAGE_URL points at it */
  brandLoginPage: string;
}

export interface LocalQueues {
  queueName: string;
  deadLetterQueueName: string;
  maxReceiveCount: number;
  /** how long a message left on the queue stays invisible before its retry */
  visibilityTimeoutSeconds: number;
}

/** One delivery of a message to the worker and what came of it. */
export interface EventAttempt {
  seq: number;
  at: string;
  messageId: string;
  webhookEventId?: string;
  receiveCount: number;
  /** the worker succeeded and the message was deleted; false = left on the queue for a retry (or the DLQ) */
  deleted: boolean;
  outcome?: EventOutcome;
  error?: { name: string; message: string };
}

export interface LocalPipelineStatus {
  pipeline: typeof PIPELINE_ID;
  /** no message anywhere in the events or the engagement queue and no batch in the worker */
  drained: boolean;
  lastAttemptSeq: number;
  poller: PollerCounters & { inFlight: number };
  /** both queues the worker drains, added up */
  queue: QueueDepth;
  /** both dead-letter queues */
  deadLetterMessages: number;
  queues: LocalQueues;
  tableName: string;
  channels: LocalPipelineChannel[];
  /** the channels are the sample ones (LOCAL_CHANNELS); false = the developer's own, from their environment */
  localChannels: boolean;
  /** the backfill function's last failed invocation (SQS retries its tick), for `npm run backfill -- --status` */
  lastBackfillError?: BackfillInvocationError;
  endpoints: LocalEndpoints;
}

export interface BackfillInvocationError {
  at: string;
  /** the channel of the tick that failed, when its body names one */
  channel?: string;
  name: string;
  message: string;
}

/**
 * The running pipeline's settings over serverless.yml's local ones (`stageEnv`): its channels, its Capillary and
 * LINE API, its table. What a command on `--stage local` (reconcile, doctor) reads, so it sees the channels `npm start`
 * serves (two by default) instead of the single channel serverless.yml describes.
 */
export function runningPipelineEnvironment(status: LocalPipelineStatus, stageEnv: Env): Env {
  const env: Env = {
    ...stageEnv,
    CAPILLARY_BASE_URL: status.endpoints.capillary.url,
    LINE_API_BASE_URL: status.endpoints.line.url,
    TABLE_NAME: status.tableName,
  };
  return status.localChannels ? withLocalChannels(env) : env;
}

/** The environment variables that name a developer's own channels; without them `npm start` serves the local ones. */
export const OWN_CHANNEL_VARIABLES = [...CHANNEL_LIST_VARIABLES, 'LINE_CHANNEL_SECRET', 'LINE_CHANNEL_SECRET_PARAM'];

export const namesOwnChannels = (env: Env): boolean => OWN_CHANNEL_VARIABLES.some((name) => env[name]);

/** `env` with the local channels (LOCAL_CHANNELS) in place of the single channel serverless.yml's local stage describes. */
export function withLocalChannels(env: Env): Env {
  const local: Env = { ...env };
  for (const name of [...SINGLE_CHANNEL_VARIABLES, ...CHANNEL_LIST_VARIABLES]) delete local[name];
  return { ...local, LINE_CHANNELS: localChannelsSetting() };
}

/** A channel the pipeline serves (no secrets). */
export interface LocalPipelineChannel {
  id: string;
  capillaryLineAccountId: string;
  destination?: string;
}

/** `…/line/webhook` → `…/line/webhook/{channel}`; the channel `default` keeps the plain URL. */
export function webhookUrlFor(webhookUrl: string, channel: string | undefined): string {
  if (channel === undefined || channel === DEFAULT_CHANNEL_ID) return webhookUrl;
  return `${webhookUrl.replace(/\/+$/, '')}/${encodeURIComponent(channel)}`;
}

export type UserRecords = Record<string, UserSyncState | null>;

/** What `POST /__local/reset` emptied, and the real services (set in the environment) it cannot reset. */
export interface LocalReset {
  reset: string[];
  untouched: string[];
}

export class PipelineAdminError extends Error {
  constructor(url: string, detail: string) {
    super(`${url}: ${detail}`);
    this.name = 'PipelineAdminError';
  }
}

async function fetchJson<T>(url: string, method = 'GET'): Promise<T> {
  const response = await fetch(url, { method, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new PipelineAdminError(url, `HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The admin API next to a webhook URL: the local pipeline serves both from one origin. */
export class PipelineAdminClient {
  readonly adminUrl: string;

  constructor(webhookUrl: string) {
    this.adminUrl = `${new URL(webhookUrl).origin}${LOCAL_ADMIN_PREFIX}`;
  }

  status(): Promise<LocalPipelineStatus> {
    return fetchJson(`${this.adminUrl}status`);
  }

  reset(): Promise<LocalReset> {
    return fetchJson(`${this.adminUrl}reset`, 'POST');
  }

  /** The status, or undefined when nothing there answers as a local pipeline (e.g. a deployed stage). */
  async probe(): Promise<LocalPipelineStatus | undefined> {
    try {
      const status = await this.status();
      return status.pipeline === PIPELINE_ID ? status : undefined;
    } catch {
      return undefined;
    }
  }

  attemptsSince(seq: number): Promise<EventAttempt[]> {
    return fetchJson(`${this.adminUrl}attempts?since=${seq}`);
  }

  userRecords(destination: string, userIds: string[]): Promise<UserRecords> {
    return fetchJson(
      `${this.adminUrl}user-records?${new URLSearchParams({ destination, userIds: userIds.join(',') })}`,
    );
  }
}
