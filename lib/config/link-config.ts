/**
 * The settings of linking (docs/architecture.md#linking): the worker's, and the link API's. Each
 * problem names the setting (the reader collects them).
 */
import type { AnonymousCustomerMode, AttachMethod, ChatLinkSettings } from '../domain/link-rules';
import { readChannels, type ById, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { list, type EnvReader } from './env-reader';

export interface WorkerLinkSettings {
  chat: ChatLinkSettings;
  /** the brand's page, `{linkToken}` replaced; undefined = linking from chat is off */
  linkPageUrl: string | undefined;
  attachMethod: AttachMethod;
  mergeAutoApprove: boolean;
  anonymousCustomer: AnonymousCustomerMode;
  /** a reply token older than this is not tried: the answer is pushed */
  replyTokenMaxAgeMs: number;
  lineApiTimeoutMs: number;
}

/**
 * A channel as the link API sees it: its `destination` (when absent, read once per cold start from
 * `GET /v2/bot/info` with the channel's token) and its LINE Login channel for ID tokens.
 */
export type LinkChannel = ChannelOf<'channelAccessToken'>;

export interface LinkApiConfig {
  /** several during a rotation */
  tokens: string[];
  queueUrl: string;
  tableName: string;
  channels: ById<LinkChannel>;
  lineApiBaseUrl: string;
  lineApiTimeoutMs: number;
  accountLinkUrl: string;
  nonceTtlMs: number;
  maxBodyBytes: number;
}

export function readWorkerLinkSettings(read: EnvReader): WorkerLinkSettings {
  const linkPageUrl = read.optional('LINK_PAGE_URL');
  if (linkPageUrl !== undefined) read.url('LINK_PAGE_URL');
  return {
    chat: {
      linkPostbackData: read.optional('LINK_POSTBACK_DATA') ?? DEFAULTS.LINK_POSTBACK_DATA,
      unlinkPostbackData: read.optional('UNLINK_POSTBACK_DATA') ?? DEFAULTS.UNLINK_POSTBACK_DATA,
      linkKeyword: read.optional('LINK_KEYWORD'),
    },
    linkPageUrl,
    attachMethod: read.oneOf(
      'CAPILLARY_LINK_METHOD',
      ['add-profile', 'change-identifier'] as const,
      DEFAULTS.CAPILLARY_LINK_METHOD,
    ),
    mergeAutoApprove:
      read.oneOf('CAPILLARY_MERGE_AUTO_APPROVE', ['true', 'false'] as const, DEFAULTS.CAPILLARY_MERGE_AUTO_APPROVE) ===
      'true',
    anonymousCustomer: read.oneOf(
      'CAPILLARY_LINK_ANONYMOUS',
      ['detach', 'merge-request', 'keep'] as const,
      DEFAULTS.CAPILLARY_LINK_ANONYMOUS,
    ),
    replyTokenMaxAgeMs:
      read.integer('LINE_REPLY_TOKEN_MAX_AGE_SECONDS', DEFAULTS.LINE_REPLY_TOKEN_MAX_AGE_SECONDS, 0, 3600) * 1000,
    lineApiTimeoutMs: read.integer('LINE_API_TIMEOUT_MS', DEFAULTS.LINE_API_TIMEOUT_MS, 100, 30_000),
  };
}

export async function readLinkApiSettings(read: EnvReader): Promise<LinkApiConfig> {
  // Comma-separated: during a rotation the old and the new token are both accepted.
  const tokens = list(await read.secret('LINK_API_TOKEN'));
  if (tokens.some((token) => token.length < 32))
    read.problems.push('LINK_API_TOKEN: every token must be at least 32 characters');
  return {
    tokens,
    queueUrl: read.url('QUEUE_URL'),
    tableName: read.required('TABLE_NAME'),
    channels: await readChannels(read, ['channelAccessToken']),
    lineApiBaseUrl: read.url('LINE_API_BASE_URL', DEFAULTS.LINE_API_BASE_URL),
    lineApiTimeoutMs: read.integer('LINE_API_TIMEOUT_MS', DEFAULTS.LINE_API_TIMEOUT_MS, 100, 30_000),
    accountLinkUrl: read.url('LINE_ACCOUNT_LINK_URL', DEFAULTS.LINE_ACCOUNT_LINK_URL),
    nonceTtlMs: read.integer('LINK_NONCE_TTL_SECONDS', DEFAULTS.LINK_NONCE_TTL_SECONDS, 60, 3600) * 1000,
    maxBodyBytes: read.integer('LINK_API_MAX_BODY_BYTES', DEFAULTS.LINK_API_MAX_BODY_BYTES, 256, 256 * 1024),
  };
}
