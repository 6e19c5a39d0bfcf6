import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LineCustomerDirectory } from '../capillary/customer-directory';
import { CapillaryHttpClient } from '../capillary/http-client';
import type { WorkerConfig } from '../config/config';
import { LineProfileClient } from '../line/profile-client';
import { UserSyncStore } from '../store/user-sync-store';
import type { SyncDeps } from './sync-line-event';

/** The worker's clients, built once per container from its configuration. */
export function buildSyncDeps(config: WorkerConfig, dynamo = new DynamoDBClient({ cacheMiddleware: true })): SyncDeps {
  const { capillary, line } = config;
  const http = new CapillaryHttpClient({
    baseUrl: capillary.baseUrl,
    auth: capillary.auth,
    timeoutMs: capillary.timeoutMs,
    maxAttempts: capillary.maxAttempts,
    // Each worker instance takes an equal share of the API key's per-minute limit (2% headroom).
    minIntervalMs: (60_000 * capillary.workerConcurrency * 1.02) / capillary.rateLimitPerMinute,
  });
  return {
    store: new UserSyncStore(dynamo, config.tableName, config.claimTtlSeconds * 1000),
    customers: new LineCustomerDirectory(http, capillary),
    profiles: new LineProfileClient({ channelAccessToken: line.channelAccessToken, baseUrl: line.apiBaseUrl, timeoutMs: line.profileTimeoutMs }),
  };
}
