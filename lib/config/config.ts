/**
 * Configuration is read and validated once per cold start. Every problem names the setting, so a
 * deployment with a missing variable fails loudly on its first invocation instead of misbehaving.
 * Secrets may be given directly (local runs) or as `<NAME>_PARAM`, the name of an SSM SecureString.
 */

import { DEFAULTS } from './defaults';
import { ConfigError } from './errors';


export type Env = Record<string, string | undefined>;
export type SecretResolver = (parameterName: string) => Promise<string | undefined>;

export type RegistrationMode = 'instore+line' | 'line-only';

export interface CapillaryAuthConfig {
  scheme: 'oauth' | 'basic';
  /** OAuth client key or till username */
  id: string;
  /** OAuth client secret or till password */
  secret: string;
  oauthHeaderName: string;
}

export interface CapillaryConfig {
  baseUrl: string;
  lineAccountId: string;
  auth: CapillaryAuthConfig;
  subscriptionChannel: string;
  /** undefined = omit orgUnitId from subscription bodies */
  orgUnitId: number | undefined;
  registrationMode: RegistrationMode;
  externalIdPrefix: string;
  subscribeOnRegister: boolean;
  timeoutMs: number;
  maxAttempts: number;
  /** Capillary's per-minute limit for this API key, shared by all worker instances */
  rateLimitPerMinute: number;
  workerConcurrency: number;
}

export interface WebhookConfig {
  channelSecrets: string[];
  queueUrl: string;
  expectedDestinations: string[];
  maxBodyBytes: number;
}

export interface WorkerConfig {
  tableName: string;
  claimTtlSeconds: number;
  line: { channelAccessToken: string; apiBaseUrl: string; profileTimeoutMs: number };
  capillary: CapillaryConfig;
}

class EnvReader {
  readonly problems: string[] = [];
  readonly #causes: unknown[] = [];
  constructor(private readonly env: Env, private readonly resolveSecret: SecretResolver) {}

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) this.problems.push(`${name} is not set`);
    return value ?? '';
  }

  url(name: string, fallback?: string): string {
    const value = fallback === undefined ? this.required(name) : (this.optional(name) ?? fallback);
    if (value === '') return value;
    try {
      const url = new URL(value);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
    } catch {
      this.problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
    return value.replace(/\/+$/, '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /** `NAME` directly, or `NAME_PARAM` naming an SSM SecureString. */
  async secret(name: string, { required }: { required: boolean } = { required: true }): Promise<string | undefined> {
    const direct = this.optional(name);
    if (direct !== undefined) return direct;
    const parameterName = this.optional(`${name}_PARAM`);
    if (parameterName === undefined) {
      if (required) this.problems.push(`${name} (or ${name}_PARAM) is not set`);
      return undefined;
    }
    try {
      const value = await this.resolveSecret(parameterName);
      if (!value) this.problems.push(`${name}_PARAM names SSM parameter "${parameterName}", which is empty`);
      return value;
    } catch (error) {
      this.problems.push(`${name}_PARAM: cannot read SSM parameter "${parameterName}" (${(error as Error).name})`);
      this.#causes.push(error);
      return undefined;
    }
  }

  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems, { cause: this.#causes[0] });
  }
}

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export async function readWebhookConfig(env: Env, resolveSecret: SecretResolver): Promise<WebhookConfig> {
  const read = new EnvReader(env, resolveSecret);
  const config: WebhookConfig = {
    // Comma-separated: during a secret rotation both the old and the new secret are accepted.
    channelSecrets: list(await read.secret('LINE_CHANNEL_SECRET')),
    queueUrl: read.url('QUEUE_URL'),
    expectedDestinations: list(read.optional('LINE_EXPECTED_DESTINATIONS')),
    maxBodyBytes: read.integer('WEBHOOK_MAX_BODY_BYTES', DEFAULTS.WEBHOOK_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
  };
  read.done();
  return config;
}

async function readCapillaryAuth(read: EnvReader): Promise<CapillaryAuthConfig> {
  const oauthHeaderName = read.optional('CAPILLARY_OAUTH_HEADER') ?? DEFAULTS.CAPILLARY_OAUTH_HEADER;
  const hasOAuth = read.optional('CAPILLARY_CLIENT_KEY') !== undefined || read.optional('CAPILLARY_CLIENT_KEY_PARAM') !== undefined;
  const hasBasic = read.optional('CAPILLARY_USERNAME') !== undefined || read.optional('CAPILLARY_USERNAME_PARAM') !== undefined;
  if (hasOAuth || !hasBasic) {
    const id = (await read.secret('CAPILLARY_CLIENT_KEY')) ?? '';
    const secret = (await read.secret('CAPILLARY_CLIENT_SECRET')) ?? '';
    if (!hasOAuth) read.problems.push('Capillary credentials: set CAPILLARY_CLIENT_KEY + CAPILLARY_CLIENT_SECRET (OAuth) or CAPILLARY_USERNAME + CAPILLARY_PASSWORD (Basic)');
    return { scheme: 'oauth', id, secret, oauthHeaderName };
  }
  return {
    scheme: 'basic',
    id: (await read.secret('CAPILLARY_USERNAME')) ?? '',
    secret: (await read.secret('CAPILLARY_PASSWORD')) ?? '',
    oauthHeaderName,
  };
}

export async function readWorkerConfig(env: Env, resolveSecret: SecretResolver): Promise<WorkerConfig> {
  const read = new EnvReader(env, resolveSecret);
  const orgUnit = read.optional('CAPILLARY_ORG_UNIT_ID') ?? DEFAULTS.CAPILLARY_ORG_UNIT_ID;
  let orgUnitId: number | undefined;
  if (orgUnit !== 'omit') {
    orgUnitId = Number(orgUnit);
    if (!Number.isInteger(orgUnitId)) read.problems.push(`CAPILLARY_ORG_UNIT_ID must be an integer or "omit", got "${orgUnit}"`);
  }
  const subscribeOnRegister = read.oneOf('CAPILLARY_SUBSCRIBE_ON_REGISTER', ['true', 'false'] as const, DEFAULTS.CAPILLARY_SUBSCRIBE_ON_REGISTER) === 'true';
  const config: WorkerConfig = {
    tableName: read.required('TABLE_NAME'),
    claimTtlSeconds: read.integer('CLAIM_TTL_SECONDS', DEFAULTS.CLAIM_TTL_SECONDS, 5, 3600),
    line: {
      channelAccessToken: (await read.secret('LINE_CHANNEL_ACCESS_TOKEN')) ?? '',
      apiBaseUrl: read.url('LINE_API_BASE_URL', DEFAULTS.LINE_API_BASE_URL),
      profileTimeoutMs: read.integer('LINE_PROFILE_TIMEOUT_MS', DEFAULTS.LINE_PROFILE_TIMEOUT_MS, 100, 30_000),
    },
    capillary: {
      baseUrl: read.url('CAPILLARY_BASE_URL'),
      lineAccountId: read.required('CAPILLARY_LINE_ACCOUNT_ID'),
      auth: await readCapillaryAuth(read),
      subscriptionChannel: read.optional('CAPILLARY_SUBSCRIPTION_CHANNEL') ?? DEFAULTS.CAPILLARY_SUBSCRIPTION_CHANNEL,
      orgUnitId,
      registrationMode: read.oneOf('CAPILLARY_REGISTRATION_MODE', ['instore+line', 'line-only'] as const, DEFAULTS.CAPILLARY_REGISTRATION_MODE),
      externalIdPrefix: read.optional('CAPILLARY_EXTERNAL_ID_PREFIX') ?? DEFAULTS.CAPILLARY_EXTERNAL_ID_PREFIX,
      subscribeOnRegister,
      timeoutMs: read.integer('CAPILLARY_TIMEOUT_MS', DEFAULTS.CAPILLARY_TIMEOUT_MS, 100, 60_000),
      maxAttempts: read.integer('CAPILLARY_MAX_ATTEMPTS', DEFAULTS.CAPILLARY_MAX_ATTEMPTS, 1, 10),
      rateLimitPerMinute: read.integer('CAPILLARY_RATE_LIMIT_RPM', DEFAULTS.CAPILLARY_RATE_LIMIT_RPM, 1, 1_000_000),
      workerConcurrency: read.integer('WORKER_MAX_CONCURRENCY', DEFAULTS.WORKER_MAX_CONCURRENCY, 1, 1000),
    },
  };
  read.done();
  return config;
}
