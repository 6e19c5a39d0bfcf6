/**
 * Configuration is read and validated once per cold start. Every problem names the setting, so a
 * deployment with a missing variable fails loudly on its first invocation instead of misbehaving.
 * Secrets may be given directly (local runs) or as `<NAME>_PARAM`, the name of an SSM SecureString.
 */

import { ById, CHANNEL_ID_PATTERN, DEFAULT_CAPILLARY_ORG_ID, readChannels, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { EnvReader, isHttpUrl, type Env, type SecretResolver } from './env-reader';
import { entryFields, parseEntries } from './json-list';
import {
  readLinkApiSettings,
  readWorkerLinkSettings,
  type LinkApiConfig,
  type WorkerLinkSettings,
} from './link-config';

export type { Env, SecretResolver };

/** `on-link`: no customer until the follower links to a member (docs/architecture.md#linking). */
export type RegistrationMode = 'instore+line' | 'line-only' | 'on-link';
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['instore+line', 'line-only', 'on-link'];

export interface CapillaryAuthConfig {
  scheme: 'oauth' | 'basic';
  /** OAuth client key or till username */
  id: string;
  /** OAuth client secret or till password */
  secret: string;
  oauthHeaderName: string;
}

/** One Capillary org: its cluster, its API credentials and its own rate limit (one budget per org). */
export interface CapillaryOrgConfig {
  id: string;
  baseUrl: string;
  auth: CapillaryAuthConfig;
  /** Capillary's per-minute limit for this org's API key, shared by all worker instances and channels on it */
  rateLimitPerMinute: number;
}

/** How LINE followers are written to Capillary: the same for every org and channel. */
export interface CapillaryConfig {
  subscriptionChannel: string;
  /** undefined = omit orgUnitId from subscription bodies */
  orgUnitId: number | undefined;
  registrationMode: RegistrationMode;
  externalIdPrefix: string;
  /** the LINE opt-in inside the add-customer call (subscriptionInfo), falling back to a separate call where refused */
  subscribeOnRegister: boolean;
  /** instore+line: both profiles in one add-customer call (Unconfirmed), falling back to two calls where refused */
  registerProfilesTogether: boolean;
  timeoutMs: number;
  maxAttempts: number;
}

export type WebhookChannel = ChannelOf<'channelSecrets'>;
export type WorkerChannel = ChannelOf<'channelAccessToken' | 'capillaryLineAccountId'>;

export interface WebhookConfig {
  channels: ById<WebhookChannel>;
  queueUrl: string;
  maxBodyBytes: number;
}

export interface WorkerConfig {
  tableName: string;
  claimTtlSeconds: number;
  channels: ById<WorkerChannel>;
  line: { apiBaseUrl: string; profileTimeoutMs: number };
  capillary: CapillaryConfig;
  /** the `default` org (the CAPILLARY_* variables) first, then CAPILLARY_ORGS */
  capillaryOrgs: ById<CapillaryOrgConfig>;
  link: WorkerLinkSettings;
}

export async function readWebhookConfig(env: Env, resolveSecret: SecretResolver): Promise<WebhookConfig> {
  const read = new EnvReader(env, resolveSecret);
  const config: WebhookConfig = {
    channels: await readChannels(read, ['channelSecrets']),
    queueUrl: read.url('QUEUE_URL'),
    maxBodyBytes: read.integer('WEBHOOK_MAX_BODY_BYTES', DEFAULTS.WEBHOOK_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
  };
  read.done();
  return config;
}

async function readCapillaryAuth(read: EnvReader): Promise<CapillaryAuthConfig> {
  const oauthHeaderName = read.optional('CAPILLARY_OAUTH_HEADER') ?? DEFAULTS.CAPILLARY_OAUTH_HEADER;
  const hasOAuth =
    read.optional('CAPILLARY_CLIENT_KEY') !== undefined || read.optional('CAPILLARY_CLIENT_KEY_PARAM') !== undefined;
  const hasBasic =
    read.optional('CAPILLARY_USERNAME') !== undefined || read.optional('CAPILLARY_USERNAME_PARAM') !== undefined;
  if (hasOAuth || !hasBasic) {
    const id = (await read.secret('CAPILLARY_CLIENT_KEY')) ?? '';
    const secret = (await read.secret('CAPILLARY_CLIENT_SECRET')) ?? '';
    if (!hasOAuth)
      read.problems.push(
        'Capillary credentials: set CAPILLARY_CLIENT_KEY + CAPILLARY_CLIENT_SECRET (OAuth) or CAPILLARY_USERNAME + CAPILLARY_PASSWORD (Basic)',
      );
    return { scheme: 'oauth', id, secret, oauthHeaderName };
  }
  return {
    scheme: 'basic',
    id: (await read.secret('CAPILLARY_USERNAME')) ?? '',
    secret: (await read.secret('CAPILLARY_PASSWORD')) ?? '',
    oauthHeaderName,
  };
}

const ORG_FIELDS = ['id', 'baseUrl', 'clientKey', 'clientSecret', 'username', 'password', 'rateLimitPerMinute'];
const ORG_EXAMPLE =
  '[{"id": "jp", "baseUrl": "https://…", "clientKey": "…", "clientSecret": "…", "rateLimitPerMinute": 100}]';

/** CAPILLARY_ORGS: the other Capillary orgs channels may name, each with its own credentials and rate limit. */
async function readOtherCapillaryOrgs(read: EnvReader, oauthHeaderName: string): Promise<CapillaryOrgConfig[]> {
  const raw = await read.secret('CAPILLARY_ORGS', { required: false });
  if (raw === undefined) return [];
  const label =
    read.optional('CAPILLARY_ORGS') === undefined
      ? `CAPILLARY_ORGS_PARAM "${read.optional('CAPILLARY_ORGS_PARAM')}"`
      : 'CAPILLARY_ORGS';
  return parseEntries(raw, label, ORG_EXAMPLE, read.problems, (entry, at) => {
    const fields = entryFields(entry, at, ORG_FIELDS, CHANNEL_ID_PATTERN, read.problems);
    if (fields === undefined) return undefined;
    if (fields.id === DEFAULT_CAPILLARY_ORG_ID)
      fields.problem(
        'id',
        `"${DEFAULT_CAPILLARY_ORG_ID}" is the org of the CAPILLARY_* variables: name this one differently`,
      );
    const baseUrl = fields.text('baseUrl', true) ?? '';
    if (baseUrl !== '' && !isHttpUrl(baseUrl)) fields.problem('baseUrl', 'must be an http(s) URL');
    const basic = fields.text('username', false) !== undefined;
    const auth: CapillaryAuthConfig = basic
      ? {
          scheme: 'basic',
          id: fields.text('username', true) ?? '',
          secret: fields.text('password', true) ?? '',
          oauthHeaderName,
        }
      : {
          scheme: 'oauth',
          id: fields.text('clientKey', true) ?? '',
          secret: fields.text('clientSecret', true) ?? '',
          oauthHeaderName,
        };
    return {
      id: fields.id,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      auth,
      rateLimitPerMinute: fields.integer('rateLimitPerMinute', DEFAULTS.CAPILLARY_RATE_LIMIT_RPM, 1, 1_000_000),
    };
  });
}

export async function readWorkerConfig(env: Env, resolveSecret: SecretResolver): Promise<WorkerConfig> {
  const read = new EnvReader(env, resolveSecret);
  const orgUnit = read.optional('CAPILLARY_ORG_UNIT_ID') ?? DEFAULTS.CAPILLARY_ORG_UNIT_ID;
  let orgUnitId: number | undefined;
  if (orgUnit !== 'omit') {
    orgUnitId = Number(orgUnit);
    if (!Number.isInteger(orgUnitId))
      read.problems.push(`CAPILLARY_ORG_UNIT_ID must be an integer or "omit", got "${orgUnit}"`);
  }
  const flag = (name: 'CAPILLARY_SUBSCRIBE_ON_REGISTER' | 'CAPILLARY_REGISTER_PROFILES_TOGETHER') =>
    read.oneOf(name, ['true', 'false'] as const, DEFAULTS[name]) === 'true';
  const defaultOrg: CapillaryOrgConfig = {
    id: DEFAULT_CAPILLARY_ORG_ID,
    baseUrl: read.url('CAPILLARY_BASE_URL'),
    auth: await readCapillaryAuth(read),
    rateLimitPerMinute: read.integer('CAPILLARY_RATE_LIMIT_RPM', DEFAULTS.CAPILLARY_RATE_LIMIT_RPM, 1, 1_000_000),
  };
  const capillaryOrgs = new ById([
    defaultOrg,
    ...(await readOtherCapillaryOrgs(read, defaultOrg.auth.oauthHeaderName)),
  ]);
  const channels = await readChannels(read, ['channelAccessToken', 'capillaryLineAccountId']);
  for (const channel of channels.all) {
    if (capillaryOrgs.get(channel.capillaryOrg) === undefined) {
      read.problems.push(
        `channel "${channel.id}": capillaryOrg "${channel.capillaryOrg}" is not "${DEFAULT_CAPILLARY_ORG_ID}" nor an id in CAPILLARY_ORGS`,
      );
    }
  }
  const config: WorkerConfig = {
    tableName: read.required('TABLE_NAME'),
    claimTtlSeconds: read.integer('CLAIM_TTL_SECONDS', DEFAULTS.CLAIM_TTL_SECONDS, 5, 3600),
    channels,
    line: {
      apiBaseUrl: read.url('LINE_API_BASE_URL', DEFAULTS.LINE_API_BASE_URL),
      profileTimeoutMs: read.integer('LINE_PROFILE_TIMEOUT_MS', DEFAULTS.LINE_PROFILE_TIMEOUT_MS, 100, 30_000),
    },
    capillary: {
      subscriptionChannel: read.optional('CAPILLARY_SUBSCRIPTION_CHANNEL') ?? DEFAULTS.CAPILLARY_SUBSCRIPTION_CHANNEL,
      orgUnitId,
      registrationMode: read.oneOf(
        'CAPILLARY_REGISTRATION_MODE',
        REGISTRATION_MODES,
        DEFAULTS.CAPILLARY_REGISTRATION_MODE,
      ),
      externalIdPrefix: read.optional('CAPILLARY_EXTERNAL_ID_PREFIX') ?? DEFAULTS.CAPILLARY_EXTERNAL_ID_PREFIX,
      subscribeOnRegister: flag('CAPILLARY_SUBSCRIBE_ON_REGISTER'),
      registerProfilesTogether: flag('CAPILLARY_REGISTER_PROFILES_TOGETHER'),
      timeoutMs: read.integer('CAPILLARY_TIMEOUT_MS', DEFAULTS.CAPILLARY_TIMEOUT_MS, 100, 60_000),
      maxAttempts: read.integer('CAPILLARY_MAX_ATTEMPTS', DEFAULTS.CAPILLARY_MAX_ATTEMPTS, 1, 10),
    },
    capillaryOrgs,
    link: readWorkerLinkSettings(read),
  };
  read.done();
  return config;
}

export async function readLinkApiConfig(env: Env, resolveSecret: SecretResolver): Promise<LinkApiConfig> {
  const read = new EnvReader(env, resolveSecret);
  const config = await readLinkApiSettings(read);
  read.done();
  return config;
}
