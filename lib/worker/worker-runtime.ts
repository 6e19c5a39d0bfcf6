import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CapillaryHttpClient } from '../capillary/http-client';
import { LineCustomerDirectory } from '../capillary/line-customers';
import { type WorkerConfig, readWorkerConfig } from '../config';
import { LineProfileClient } from '../line/profile-client';
import { MetricUnit, countCapillaryError, logger, metrics } from '../observability/telemetry';
import { onceAsync, ssmSecret } from '../runtime-cache';
import { UserSyncStore } from '../store/user-sync-store';
import { InvocationDeadline } from './invocation-deadline';
import type { SyncDeps } from './sync-line-event';

export function buildSyncDeps(config: WorkerConfig, dynamo = new DynamoDBClient({ cacheMiddleware: true })): SyncDeps {
  const { capillary, line } = config;
  const deadline = new InvocationDeadline();
  const http = new CapillaryHttpClient({
    deadline,
    baseUrl: capillary.baseUrl,
    auth: capillary.auth,
    timeoutMs: capillary.timeoutMs,
    maxAttempts: capillary.maxAttempts,
    // Each worker instance takes an equal share of the API key's per-minute limit (2% headroom).
    minIntervalMs: (60_000 * capillary.workerConcurrency * 1.02) / capillary.rateLimitPerMinute,
    onCall: (call) => {
      metrics.addMetric('CapillaryLatency', MetricUnit.Milliseconds, call.latencyMs);
      for (const code of call.errorCodes.length > 0 ? call.errorCodes : call.status === 200 ? [] : [call.status]) {
        countCapillaryError(call.operation, String(code));
      }
      logger.info('Capillary call', { ...call });
    },
  });
  return {
    deadline,
    store: new UserSyncStore(dynamo, config.tableName, config.claimTtlSeconds * 1000),
    customers: new LineCustomerDirectory(http, capillary),
    profiles: new LineProfileClient({ channelAccessToken: line.channelAccessToken, baseUrl: line.apiBaseUrl, timeoutMs: line.profileTimeoutMs }),
  };
}

export const workerRuntime = onceAsync(async () => buildSyncDeps(await readWorkerConfig(process.env, ssmSecret)));
