import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { channelCapillaryHttp } from '../../lib/capillary/channel-http';
import { readMemberLoyalty } from '../../lib/capillary/loyalty-reader';
import { allOf, SharePacer } from '../../lib/capillary/share-pacer';
import { DEFAULTS } from '../../lib/config/defaults';
import { ChannelNotConfiguredError } from '../../lib/config/errors';
import type { WorkerConfig } from '../../lib/config/worker-config';
import { LineFollowersClient } from '../../lib/line/follower-pages';
import { RichMenuClient } from '../../lib/line/rich-menu-client';
import { orgRateLimiter } from '../../lib/store/shared-rate-limiter';
import { scanUserRecords } from '../../lib/store/user-census';
import { TierMenus } from '../../lib/worker/loyalty/loyalty-channel';
import type { MenuSyncDeps } from './menu-sync';

/** The menu sync's share of the per-minute limit, as the backfill's default: live events keep the rest. */
const MENU_SYNC_RATE_SHARE = 0.5;

/** The menu sync's clients for one channel, from the worker's configuration of the stage; none without a map. */
export async function buildMenuSyncDeps(
  config: WorkerConfig,
  dynamo: DynamoDBClient,
  channelId: string,
): Promise<MenuSyncDeps | undefined> {
  const channel = config.channels.get(channelId);
  if (channel === undefined) throw new ChannelNotConfiguredError(channelId);
  const map = channel.loyalty?.richMenusByTier;
  if (map === undefined) return undefined;
  const { capillary, line, loyalty } = config;
  const { org, http } = channelCapillaryHttp(config.capillaryOrgs, channel, capillary);
  const lineClient = { channelAccessToken: channel.channelAccessToken, baseUrl: line.apiBaseUrl };
  const richMenus = new RichMenuClient({ ...lineClient, timeoutMs: DEFAULTS.LINE_API_TIMEOUT_MS });
  const destination =
    channel.destination ??
    (await new LineFollowersClient({ ...lineClient, timeoutMs: DEFAULTS.LINE_API_TIMEOUT_MS }).botUserId());
  const call = { deadlineAt: Number.POSITIVE_INFINITY };
  const programId = loyalty.programId;
  return {
    records: () => scanUserRecords(dynamo, config.tableName, destination),
    readTier: async (memberId) => {
      const reading = await readMemberLoyalty(http, memberId, { call, ...(programId ? { programId } : {}) });
      return reading.outcome === 'member' ? reading.standing : undefined;
    },
    // Its share first, then the org's budget that the live workers and the backfill take from too.
    limiter: allOf(
      new SharePacer(org.rateLimitPerMinute * MENU_SYNC_RATE_SHARE),
      orgRateLimiter(dynamo, config.tableName, org),
    ),
    menus: new TierMenus(map, richMenus, channel.id),
    richMenus,
  };
}
