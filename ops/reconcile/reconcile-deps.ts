import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

import { channelCapillaryHttp } from '../../lib/capillary/channel-http';
import { allOf, SharePacer } from '../../lib/capillary/share-pacer';
import { DEFAULTS } from '../../lib/config/defaults';
import { ChannelNotConfiguredError } from '../../lib/config/errors';
import type { WorkerSections } from '../../lib/config/worker-config';
import { LineFollowersClient } from '../../lib/line/follower-pages';
import { SyntheticEventSender } from '../../lib/queue/synthetic-events';
import { orgRateLimiter } from '../../lib/store/shared-rate-limiter';
import { readCustomerIdentity } from './identity-reader';
import type { ReconcileDeps } from './reconcile';
import { readLineSubscription } from './subscription-reader';

/** The drift check's share of the per-minute limit: it must not starve live events. */
const RECONCILE_RATE_SHARE = 0.25;

/** The drift check's clients for one channel, from the worker's configuration of the stage it checks. */
export async function buildReconcileDeps(
  config: WorkerSections,
  clients: { dynamo: DynamoDBClient; sqs: SQSClient },
  eventsQueueUrl: string,
  channelId: string,
): Promise<ReconcileDeps> {
  const channel = config.channels.get(channelId);
  if (channel === undefined) throw new ChannelNotConfiguredError(channelId);
  const { capillary, line } = config;
  const { org, http } = channelCapillaryHttp(config.capillaryOrgs, channel, capillary);
  const followers = new LineFollowersClient({
    channelAccessToken: channel.channelAccessToken,
    baseUrl: line.apiBaseUrl,
    timeoutMs: DEFAULTS.LINE_API_TIMEOUT_MS,
  });
  const destination = channel.destination ?? (await followers.botUserId());
  const call = { deadlineAt: Number.POSITIVE_INFINITY };
  return {
    followers,
    dynamo: clients.dynamo,
    tableName: config.tableName,
    destination,
    readSubscription: (customerId) => readLineSubscription(http, channel.capillaryLineAccountId, customerId, call),
    readIdentity: (customerId, userId, beforeRead) =>
      readCustomerIdentity(http, channel.capillaryLineAccountId, customerId, userId, { ...call, beforeRead }),
    defersRegistration: capillary.registrationMode === 'on-link',
    // Its share first, then the org's budget that the live workers and the backfill take from too.
    limiter: allOf(
      new SharePacer(org.rateLimitPerMinute * RECONCILE_RATE_SHARE),
      orgRateLimiter(clients.dynamo, config.tableName, org),
    ),
    pipeline: new SyntheticEventSender(clients.sqs, eventsQueueUrl, channel.id, destination),
  };
}
