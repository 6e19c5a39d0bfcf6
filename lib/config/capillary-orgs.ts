/**
 * The Capillary orgs a deployment writes to: the `default` org of the CAPILLARY_* variables, then the
 * CAPILLARY_ORGS list. Each has its cluster, its API credentials and its own rate limit.
 */
import { ById, CHANNEL_ID_PATTERN, DEFAULT_CAPILLARY_ORG_ID, type ChannelConfig } from './channels';
import { DEFAULTS } from './defaults';
import { isHttpUrl, type EnvReader } from './env-reader';
import { entryFields, parseEntries } from './json-list';

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

/** The `default` org first, then CAPILLARY_ORGS. */
export async function readCapillaryOrgs(read: EnvReader): Promise<ById<CapillaryOrgConfig>> {
  const defaultOrg: CapillaryOrgConfig = {
    id: DEFAULT_CAPILLARY_ORG_ID,
    baseUrl: read.url('CAPILLARY_BASE_URL'),
    auth: await readCapillaryAuth(read),
    rateLimitPerMinute: read.integer('CAPILLARY_RATE_LIMIT_RPM', DEFAULTS.CAPILLARY_RATE_LIMIT_RPM, 1, 1_000_000),
  };
  return new ById([defaultOrg, ...(await readOtherCapillaryOrgs(read, defaultOrg.auth.oauthHeaderName))]);
}

/** Every channel's customers must live in an org this deployment has credentials for. */
export function checkChannelOrgs(
  read: EnvReader,
  channels: readonly Pick<ChannelConfig, 'id' | 'capillaryOrg'>[],
  orgs: ById<CapillaryOrgConfig>,
): void {
  for (const channel of channels) {
    if (orgs.get(channel.capillaryOrg) === undefined) {
      read.problem(
        `channel "${channel.id}": capillaryOrg`,
        `"${channel.capillaryOrg}" is not "${DEFAULT_CAPILLARY_ORG_ID}" nor an id in CAPILLARY_ORGS`,
      );
    }
  }
}

async function readCapillaryAuth(read: EnvReader): Promise<CapillaryAuthConfig> {
  const oauthHeaderName = read.optional('CAPILLARY_OAUTH_HEADER') ?? DEFAULTS.CAPILLARY_OAUTH_HEADER;
  const hasOAuth = read.isSet('CAPILLARY_CLIENT_KEY');
  if (hasOAuth || !read.isSet('CAPILLARY_USERNAME')) {
    const id = (await read.secret('CAPILLARY_CLIENT_KEY')) ?? '';
    const secret = (await read.secret('CAPILLARY_CLIENT_SECRET')) ?? '';
    if (!hasOAuth)
      read.problem(
        'Capillary credentials:',
        'set CAPILLARY_CLIENT_KEY + CAPILLARY_CLIENT_SECRET (OAuth) or CAPILLARY_USERNAME + CAPILLARY_PASSWORD (Basic)',
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
  return parseEntries(raw, label, ORG_EXAMPLE, read, (entry, at) => {
    const fields = entryFields(entry, at, ORG_FIELDS, CHANNEL_ID_PATTERN, read);
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
