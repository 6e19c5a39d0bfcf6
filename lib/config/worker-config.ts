/** The worker's configuration: the table, the channels' tokens, the Capillary orgs, how followers are written, and linking. */
import { checkChannelOrgs, readCapillaryOrgs, type CapillaryOrgConfig } from './capillary-orgs';
import { readCapillaryRegistration, type CapillaryConfig } from './capillary-registration';
import { readChannels, type ById, type ChannelOf } from './channels';
import { DEFAULTS } from './defaults';
import { readEngagementSettings, type EngagementSettings } from './engagement-config';
import { readConfig, type Env, type EnvReader, type SecretResolver } from './env-reader';
import { readLineApiBaseUrl } from './line-api';
import { readWorkerLinkSettings, type WorkerLinkSettings } from './link-config';
import { readLoyaltySettings, type LoyaltySettings } from './loyalty-config';
import { readTableName } from './resources';

export type WorkerChannel = ChannelOf<'channelAccessToken' | 'capillaryLineAccountId'>;

export interface WorkerConfig {
  tableName: string;
  claimTtlSeconds: number;
  channels: ById<WorkerChannel>;
  line: { apiBaseUrl: string; profileTimeoutMs: number };
  capillary: CapillaryConfig;
  /** the `default` org (the CAPILLARY_* variables) first, then CAPILLARY_ORGS */
  capillaryOrgs: ById<CapillaryOrgConfig>;
  link: WorkerLinkSettings;
  /** the program shown, "my points" in chat, the org's card texts (each channel's menus are in its entry) */
  loyalty: LoyaltySettings;
  /** LINE engagement → Capillary behavioural events; no rules = off */
  engagement: EngagementSettings;
}

/** What the backfill job shares with the worker: everything but the engagement events, which only the worker posts. */
export type WorkerSections = Omit<WorkerConfig, 'engagement'>;

export async function readWorkerConfig(env: Env, resolveSecret: SecretResolver): Promise<WorkerConfig> {
  return readConfig(env, resolveSecret, async (read) => {
    const sections = await readWorkerSections(read);
    return { ...sections, engagement: await readEngagementSettings(read, sections.channels.all) };
  });
}

/** The worker's sections, problems left in `read`: the backfill job reads them beside its own. */
export async function readWorkerSections(read: EnvReader): Promise<WorkerSections> {
  const capillaryOrgs = await readCapillaryOrgs(read);
  const channels = await readChannels(read, ['channelAccessToken', 'capillaryLineAccountId']);
  checkChannelOrgs(read, channels.all, capillaryOrgs);
  return {
    tableName: readTableName(read),
    claimTtlSeconds: read.integer('CLAIM_TTL_SECONDS', DEFAULTS.CLAIM_TTL_SECONDS, 5, 3600),
    channels,
    line: {
      apiBaseUrl: readLineApiBaseUrl(read),
      profileTimeoutMs: read.integer('LINE_PROFILE_TIMEOUT_MS', DEFAULTS.LINE_PROFILE_TIMEOUT_MS, 100, 30_000),
    },
    capillary: readCapillaryRegistration(read),
    capillaryOrgs,
    link: readWorkerLinkSettings(read),
    loyalty: readLoyaltySettings(read),
  };
}
