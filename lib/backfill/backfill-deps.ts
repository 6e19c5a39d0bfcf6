import { randomUUID } from 'node:crypto';

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import { LineBulkRegistrar } from '../capillary/bulk-upsert';
import { channelCapillaryHttp } from '../capillary/channel-http';
import { LineCustomerDirectory } from '../capillary/customer-directory';
import type { RateLimiter } from '../capillary/rate-limiter';
import { allOf, SharePacer } from '../capillary/share-pacer';
import type { BackfillConfig } from '../config/backfill-config';
import { ChannelNotConfiguredError } from '../config/errors';
import { followersPerHour } from '../domain/backfill-rules';
import { LineFollowersClient } from '../line/follower-pages';
import { LineProfileClient } from '../line/profile-client';
import { SyntheticEventSender } from '../queue/synthetic-events';
import { BackfillJobStore } from '../store/backfill-job-store';
import { orgRateLimiter } from '../store/shared-rate-limiter';
import { UserSyncStore } from '../store/user-sync-store';
import type { BackfillDeps } from './run-backfill';

export interface BackfillClients {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  /** the Capillary budget of the channel's org, shared with the live workers (default: its bucket in the user table) */
  sharedLimiter?: RateLimiter;
}

/**
 * One channel's job clients: its LINE token, its Capillary org (cluster, credentials, rate limit) and its
 * account id there. The bot's user id comes from LINE when the channel does not configure it.
 */
export async function buildBackfillDeps(
  config: BackfillConfig,
  clients: BackfillClients,
  channelId: string,
): Promise<BackfillDeps & { owner: string }> {
  const { worker } = config;
  const { capillary } = worker;
  const channel = worker.channels.get(channelId);
  if (channel === undefined) throw new ChannelNotConfiguredError(channelId);
  const { org, http } = channelCapillaryHttp(worker.capillaryOrgs, channel, capillary);
  const share = new SharePacer((org.rateLimitPerMinute * config.rateSharePercent) / 100);
  // The job keeps to its share, then takes from the org's budget that the live workers use too.
  const limiter = allOf(share, clients.sharedLimiter ?? orgRateLimiter(clients.dynamo, worker.tableName, org));
  const followers = new LineFollowersClient({
    channelAccessToken: channel.channelAccessToken,
    baseUrl: worker.line.apiBaseUrl,
    timeoutMs: config.lineTimeoutMs,
    pageSize: config.pageSize,
  });
  const destination = channel.destination ?? (await followers.botUserId());
  return {
    owner: randomUUID(),
    jobs: new BackfillJobStore(clients.dynamo, worker.tableName),
    users: new UserSyncStore(clients.dynamo, worker.tableName, worker.claimTtlSeconds * 1000),
    followers,
    registrar: new LineBulkRegistrar(http, capillary, channel.capillaryLineAccountId, limiter, config.bulkCountsAs),
    customers: new LineCustomerDirectory(http, capillary, channel.capillaryLineAccountId),
    profiles: new LineProfileClient({
      channelAccessToken: channel.channelAccessToken,
      baseUrl: worker.line.apiBaseUrl,
      timeoutMs: worker.line.profileTimeoutMs,
    }),
    pipeline: new SyntheticEventSender(clients.sqs, config.eventsQueueUrl, channel.id, destination),
    deadLetters: new SyntheticEventSender(clients.sqs, config.deadLetterQueueUrl, channel.id, destination),
    destination,
    recordOwner: { channel: channel.id, capillaryOrg: channel.capillaryOrg },
    settings: {
      batchSize: config.batchSize,
      recordMaxAttempts: config.recordMaxAttempts,
      followersPerHour: followersPerHour(
        org.rateLimitPerMinute,
        config.rateSharePercent / 100,
        config.batchSize,
        config.bulkCountsAs,
      ),
    },
  };
}
