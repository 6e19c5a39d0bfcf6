/** The link API's configuration (docs/architecture.md#linking): its callers' tokens, the queue, the table and the channels. */
import { readChannels, type ById, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { list, readConfig, type Env, type EnvReader, type SecretResolver } from './env-reader';
import { readLineApiBaseUrl, readLineApiTimeoutMs } from './line-api';
import { readEventsQueueUrl, readTableName } from './resources';

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
  /** an ID token issued (`iat`) longer ago than this is refused */
  idTokenMaxAgeMs: number;
  maxBodyBytes: number;
}

export async function readLinkApiConfig(env: Env, resolveSecret: SecretResolver): Promise<LinkApiConfig> {
  return readConfig(env, resolveSecret, async (read) => ({
    tokens: await readCallerTokens(read),
    queueUrl: readEventsQueueUrl(read),
    tableName: readTableName(read),
    channels: await readChannels(read, ['channelAccessToken']),
    lineApiBaseUrl: readLineApiBaseUrl(read),
    lineApiTimeoutMs: readLineApiTimeoutMs(read, 30_000),
    accountLinkUrl: read.url('LINE_ACCOUNT_LINK_URL', DEFAULTS.LINE_ACCOUNT_LINK_URL),
    nonceTtlMs: read.integer('LINK_NONCE_TTL_SECONDS', DEFAULTS.LINK_NONCE_TTL_SECONDS, 60, 3600) * 1000,
    idTokenMaxAgeMs:
      read.integer('LINK_ID_TOKEN_MAX_AGE_SECONDS', DEFAULTS.LINK_ID_TOKEN_MAX_AGE_SECONDS, 60, 24 * 3600) * 1000,
    maxBodyBytes: read.integer('LINK_API_MAX_BODY_BYTES', DEFAULTS.LINK_API_MAX_BODY_BYTES, 256, 256 * 1024),
  }));
}

/** Comma-separated: during a rotation the old and the new token are both accepted. */
async function readCallerTokens(read: EnvReader): Promise<string[]> {
  const tokens = list(await read.secret('LINK_API_TOKEN'));
  if (tokens.some((token) => token.length < 32))
    read.problem('LINK_API_TOKEN:', 'every token must be at least 32 characters');
  return tokens;
}
