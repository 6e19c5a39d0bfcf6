import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SharePacer } from '../backfill/share-pacer';
import { CapillaryHttpClient } from '../capillary/http-client';
import { readLineSubscription } from '../capillary/subscription-reader';
import type { WorkerConfig } from '../config/config';
import { LineFollowersClient } from '../line/follower-pages';
import { SyntheticEventSender } from '../queue/synthetic-events';
import type { ReconcileDeps } from './reconcile';

/** The drift check's share of the per-minute limit: it must not starve live events. */
const RECONCILE_RATE_SHARE = 0.25;

/** The drift check's clients, from the worker's configuration of the stage it checks. */
export async function buildReconcileDeps(config: WorkerConfig, clients: { dynamo: DynamoDBClient; sqs: SQSClient }, eventsQueueUrl: string,
  destination?: string): Promise<ReconcileDeps> {
  const { capillary, line } = config;
  const http = new CapillaryHttpClient({ baseUrl: capillary.baseUrl, auth: capillary.auth, timeoutMs: capillary.timeoutMs, maxAttempts: capillary.maxAttempts, minIntervalMs: 0 });
  const followers = new LineFollowersClient({ channelAccessToken: line.channelAccessToken, baseUrl: line.apiBaseUrl, timeoutMs: 10_000, maxAttempts: 3 });
  const botUserId = destination ?? (await followers.botUserId());
  return {
    followers,
    dynamo: clients.dynamo,
    tableName: config.tableName,
    destination: botUserId,
    readSubscription: (customerId) => readLineSubscription(http, capillary, customerId, { deadlineAt: Number.POSITIVE_INFINITY }),
    limiter: new SharePacer(capillary.rateLimitPerMinute * RECONCILE_RATE_SHARE),
    pipeline: new SyntheticEventSender(clients.sqs, eventsQueueUrl, botUserId),
  };
}
