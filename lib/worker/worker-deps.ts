import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { LineBulkRegistrar } from '../capillary/bulk-upsert';
import { LineCustomerDirectory } from '../capillary/customer-directory';
import { CapillaryHttpClient } from '../capillary/http-client';
import { MemberLinker } from '../capillary/member-linker';
import type { CapillaryOrgConfig } from '../config/capillary-orgs';
import { ById } from '../config/channels';
import { ConfigError } from '../config/errors';
import type { WorkerLinkSettings } from '../config/link-config';
import type { LoyaltySettings } from '../config/loyalty-config';
import type { WorkerChannel, WorkerConfig, WorkerSections } from '../config/worker-config';
import { memberCardTexts } from '../domain/member-card';
import { botDestination } from '../line/bot-destination';
import { LineChatClient } from '../line/link-token-client';
import { LineProfileClient } from '../line/profile-client';
import { RichMenuClient } from '../line/rich-menu-client';
import { LinkNonceStore } from '../store/link-nonce-store';
import { DynamoNotificationLog } from '../store/notification-log';
import type { DeletionLog, LinkStateStore, UserRecordStore } from '../store/ports';
import { DynamoPostedEngagementStore, type PostedEngagementStore } from '../store/posted-engagement-store';
import { orgRateLimiter } from '../store/shared-rate-limiter';
import { UserSyncStore } from '../store/user-sync-store';
import { bulkRegistrationSettings, type BulkRegistrationSettings } from './bulk/bulk-settings';
import type { BulkChannel } from './bulk/register-in-bulk';
import { engagementClients } from './engagement/engagement-clients';
import type { EngagementChannel } from './engagement/post-engagement';
import type { SiblingChannel } from './link/link-context';
import { TierMenus, type LoyaltyChannel } from './loyalty/loyalty-channel';
import type { SyncChannel } from './sync/sync-line-event';

/**
 * One LINE channel's clients: what its follows sync with (one by one or in bulk), what its links work with, where
 * its engagement events go, its org.
 */
export type ChannelClients = SyncChannel &
  SiblingChannel &
  BulkChannel &
  EngagementChannel &
  Pick<WorkerChannel, 'capillaryOrg' | 'lineProvider'>;

/** What the worker works with: the stores (as the worker sees them) and each channel's clients. */
export interface SyncDeps {
  store: UserRecordStore;
  channels: ById<ChannelClients>;
  link: { nonces: LinkStateStore; settings: WorkerLinkSettings };
  /** PII deletions whose notice came before a merge into the deleted customer (lib/store/notification-log) */
  deletions: DeletionLog;
  loyalty: LoyaltySettings;
  /** a batch's new followers in one bulk call (lib/worker/bulk); absent: each registers on its own */
  bulk?: BulkRegistrationSettings;
  /** the engagement events already posted (each posts once) */
  engagement: { posted: PostedEngagementStore };
}

/**
 * The worker's stores (DynamoDB) and clients, built once per container from its configuration: one
 * Capillary HTTP client per org (its rate budget and token shared by the org's channels), and per channel
 * a LINE profile client and a chat client (link tokens, replies, pushes) with the channel's token, and a
 * customer directory and a member linker writing with the channel's Capillary account id. Without engagement
 * settings (the backfill job's sections), no channel posts engagement events.
 */
export function buildSyncDeps(
  config: WorkerSections & { engagement?: WorkerConfig['engagement'] },
  dynamo = new DynamoDBClient({ cacheMiddleware: true }),
): SyncDeps {
  const { capillary, line, link } = config;
  const orgClient = (org: CapillaryOrgConfig) => {
    // One budget per API key, shared through the user table by every instance (and the backfill job).
    const limiter = orgRateLimiter(dynamo, config.tableName, org);
    const http = new CapillaryHttpClient({
      baseUrl: org.baseUrl,
      auth: org.auth,
      timeoutMs: capillary.timeoutMs,
      maxAttempts: capillary.maxAttempts,
      limiter,
    });
    return { http, limiter };
  };
  const orgs = new Map(config.capillaryOrgs.all.map((org) => [org.id, orgClient(org)]));
  const engagementOf = engagementClients(config.engagement, { dynamo, tableName: config.tableName }, capillary);
  const channels = config.channels.all.map((channel): ChannelClients => {
    const org = orgs.get(channel.capillaryOrg);
    // The config reader refuses a channel naming an unknown org, so this is a broken config object.
    if (org === undefined)
      throw new ConfigError([`channel "${channel.id}": capillaryOrg "${channel.capillaryOrg}" is not configured`]);
    const channelHttp = org.http.forChannel(channel.id);
    const accountId = channel.capillaryLineAccountId;
    const lineApi = { channelAccessToken: channel.channelAccessToken, baseUrl: line.apiBaseUrl };
    return {
      id: channel.id,
      capillaryOrg: channel.capillaryOrg,
      ...(channel.lineProvider === undefined ? {} : { lineProvider: channel.lineProvider }),
      destination: botDestination(channel.destination, { ...lineApi, timeoutMs: link.lineApiTimeoutMs }),
      customers: new LineCustomerDirectory(channelHttp, capillary, accountId),
      // Its HTTP client takes each bulk call's tokens from the org's budget as it goes.
      registrar: new LineBulkRegistrar(channelHttp, capillary, accountId, org.limiter, capillary.bulkCountsAs),
      profiles: new LineProfileClient({ ...lineApi, timeoutMs: line.profileTimeoutMs }),
      members: new MemberLinker(channelHttp, accountId, link),
      chat: new LineChatClient({ ...lineApi, timeoutMs: link.lineApiTimeoutMs }),
      engagement: engagementOf(channel.id),
      loyalty: loyaltyClients(config, channel, channelHttp),
    };
  });
  return {
    store: new UserSyncStore(dynamo, config.tableName, config.claimTtlSeconds * 1000),
    channels: new ById(channels),
    link: { nonces: new LinkNonceStore(dynamo, config.tableName), settings: link },
    deletions: new DynamoNotificationLog(dynamo, config.tableName),
    loyalty: config.loyalty,
    bulk: bulkRegistrationSettings(capillary),
    engagement: { posted: new DynamoPostedEngagementStore(dynamo, config.tableName) },
  };
}

/** A channel's menus (checked on first use) and card texts: the defaults, the org's, then the channel's language. */
function loyaltyClients(
  { line, link, loyalty }: Pick<WorkerConfig, 'line' | 'link' | 'loyalty'>,
  channel: WorkerChannel,
  capillary: CapillaryHttpClient,
): LoyaltyChannel['loyalty'] {
  const richMenus = new RichMenuClient({
    channelAccessToken: channel.channelAccessToken,
    baseUrl: line.apiBaseUrl,
    timeoutMs: link.lineApiTimeoutMs,
  });
  const map = channel.loyalty?.richMenusByTier;
  return {
    capillary,
    richMenus,
    menus: map === undefined ? undefined : new TierMenus(map, richMenus, channel.id),
    cardTexts: memberCardTexts(loyalty.memberCardTexts, channel.loyalty?.memberCardTexts),
    ...(loyalty.programId === undefined ? {} : { programId: loyalty.programId }),
  };
}
