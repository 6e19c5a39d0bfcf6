import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { LineBulkRegistrar } from '../capillary/bulk-upsert';
import { LineCustomerDirectory } from '../capillary/customer-directory';
import { CapillaryHttpClient } from '../capillary/http-client';
import type { RateLimiter } from '../capillary/rate-limiter';
import type { BackfillConfig } from '../config/backfill-config';
import { followersPerHour } from '../domain/backfill-rules';
import { LineFollowersClient } from '../line/follower-pages';
import { SyntheticEventSender } from '../queue/synthetic-events';
import { BackfillJobStore } from '../store/backfill-job-store';
import { UserSyncStore } from '../store/user-sync-store';
import type { BackfillDeps } from './run-backfill';
import { SharePacer, allOf } from './share-pacer';

export interface BackfillClients {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  /** the Capillary budget shared with the live workers; the job keeps to its share of it */
  sharedLimiter?: RateLimiter;
}

/** The job's clients, built once per container. The bot's user id comes from LINE when it is not configured. */
export async function buildBackfillDeps(config: BackfillConfig, clients: BackfillClients): Promise<BackfillDeps & { owner: string }> {
  const { worker } = config;
  const { capillary } = worker;
  const share = new SharePacer((capillary.rateLimitPerMinute * config.rateSharePercent) / 100);
  const limiter = clients.sharedLimiter ? allOf(share, clients.sharedLimiter) : share;
  // The limiter spaces the calls; the client itself does no pacing.
  const http = new CapillaryHttpClient({ baseUrl: capillary.baseUrl, auth: capillary.auth, timeoutMs: capillary.timeoutMs, maxAttempts: capillary.maxAttempts, minIntervalMs: 0 });
  const followers = new LineFollowersClient({
    channelAccessToken: worker.line.channelAccessToken,
    baseUrl: worker.line.apiBaseUrl,
    timeoutMs: config.lineTimeoutMs,
    maxAttempts: 3,
    pageSize: config.pageSize,
  });
  const destination = config.destination ?? (await followers.botUserId());
  return {
    owner: randomUUID(),
    jobs: new BackfillJobStore(clients.dynamo, worker.tableName),
    users: new UserSyncStore(clients.dynamo, worker.tableName, worker.claimTtlSeconds * 1000),
    followers,
    registrar: new LineBulkRegistrar(http, capillary, limiter, config.bulkCountsAs),
    customers: new LineCustomerDirectory(http, capillary),
    pipeline: new SyntheticEventSender(clients.sqs, config.eventsQueueUrl, destination),
    deadLetters: new SyntheticEventSender(clients.sqs, config.deadLetterQueueUrl, destination),
    destination,
    settings: {
      batchSize: config.batchSize,
      recordMaxAttempts: config.recordMaxAttempts,
      followersPerHour: followersPerHour(capillary.rateLimitPerMinute, config.rateSharePercent / 100, config.batchSize, config.bulkCountsAs),
    },
  };
}
