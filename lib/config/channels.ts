/**
 * The LINE channels (Official Accounts) one deployment serves: `LINE_CHANNELS` (a JSON array),
 * `LINE_CHANNELS_PARAM` (the name of an SSM SecureString holding it), `LINE_CHANNELS_PATH` (an SSM path
 * with one SecureString per channel, for more channels than one parameter holds), or the single-channel
 * variables, which mean one channel called `default`. See docs/deploy.md#several-line-channels.
 */
import { isRecord } from '../is-record';
import { list, type EnvReader, type ProblemLog } from './env-reader';
import { entryFields, jsonProblem, parseEntries } from './json-list';
import { channelLoyaltyOf, readSingleChannelLoyalty, type ChannelLoyalty } from './loyalty-config';

/** The channel `POST /line/webhook` (no path segment) serves, and the one the single-channel variables describe. */
export const DEFAULT_CHANNEL_ID = 'default';
/** The Capillary org of the CAPILLARY_* variables, used by every channel that names no other. */
export const DEFAULT_CAPILLARY_ORG_ID = 'default';

/** Short and URL-safe: it is a path segment of the webhook URL, a metric dimension and a log field. */
export const CHANNEL_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** A bot's user id, the callback's `destination` (docs/line.md#user-ids). */
const BOT_USER_ID_PATTERN = /^U[0-9a-f]{32}$/;

export interface ChannelConfig {
  id: string;
  /** more than one during a secret rotation */
  channelSecrets: string[];
  channelAccessToken: string;
  /** the Source Account ID of this LINE account in Capillary (docs/capillary.md#line-accounts) */
  capillaryLineAccountId: string;
  /** the bot's user id; when set, a signed body for another bot is refused */
  destination?: string;
  lineLoginChannelId?: string;
  /** id of the Capillary org this channel's customers live in */
  capillaryOrg: string;
  /**
   * the LINE provider the channel is under, as the brand names it: a person has one user id across a provider's
   * channels and another under each other provider (absent: one provider per Capillary org)
   */
  lineProvider?: string;
  /** the rich menu of each tier, the member card's texts (loyalty-config) */
  loyalty?: ChannelLoyalty;
  /** the channel's own engagement rules (JSON), checked by config/engagement-config; absent = LINE_ENGAGEMENT_EVENTS */
  engagementEvents?: unknown;
}

/** The settings a function may or may not need: the webhook needs the secrets, the worker the token and account. */
export type ChannelField = 'channelSecrets' | 'channelAccessToken' | 'capillaryLineAccountId';
export type ChannelOf<K extends ChannelField> = Pick<
  ChannelConfig,
  'id' | 'destination' | 'lineLoginChannelId' | 'capillaryOrg' | 'lineProvider' | 'loyalty' | 'engagementEvents' | K
>;

/** Entries by id, looked up in O(1): the webhook picks its channel before hashing anything. */
export class ById<T extends { id: string }> {
  readonly #byId: ReadonlyMap<string, T>;

  constructor(readonly all: readonly T[]) {
    this.#byId = new Map(all.map((entry) => [entry.id, entry]));
  }

  get(id: string): T | undefined {
    return this.#byId.get(id);
  }
}

/** The variables that describe the single channel `default`; none may be combined with LINE_CHANNELS. */
export const SINGLE_CHANNEL_VARIABLES = [
  'LINE_CHANNEL_SECRET',
  'LINE_CHANNEL_ACCESS_TOKEN',
  'CAPILLARY_LINE_ACCOUNT_ID',
  'LINE_EXPECTED_DESTINATIONS',
  'LINE_LOGIN_CHANNEL_ID',
  'LINE_RICH_MENUS_BY_TIER',
];

const LIST_FIELDS = [
  'id',
  'channelSecret',
  'channelAccessToken',
  'capillaryLineAccountId',
  'destination',
  'lineLoginChannelId',
  'capillaryOrg',
  'lineProvider',
  'richMenusByTier',
  'memberCardTexts',
  'engagementEvents',
];
/** The ways to give a list of channels; one at a time. */
export const CHANNEL_LIST_VARIABLES = ['LINE_CHANNELS', 'LINE_CHANNELS_PARAM', 'LINE_CHANNELS_PATH'];

/**
 * The channels, each with the fields `needs` names (a function reads only the secrets it uses when the
 * single-channel variables are set; a list is always checked whole). Problems go to `read`, each naming
 * the channel and the field.
 */
export async function readChannels<K extends ChannelField>(
  read: EnvReader,
  needs: readonly K[],
): Promise<ById<ChannelOf<K>>> {
  const lists = CHANNEL_LIST_VARIABLES.filter((name) => read.optional(name) !== undefined);
  if (lists.length === 0) return new ById([await readSingleChannel(read, needs)]);
  const alsoSet = SINGLE_CHANNEL_VARIABLES.filter((name) => read.isSet(name));
  if (alsoSet.length > 0) {
    read.problem(
      `${lists[0]} and ${alsoSet.join(', ')}`,
      `are both set: keep one (the single-channel variables mean one channel "${DEFAULT_CHANNEL_ID}"; move it into the list)`,
    );
  }
  if (lists.length > 1) {
    read.problem(lists.join(' and '), 'are set together: keep one');
    return new ById([]);
  }
  if (lists[0] === 'LINE_CHANNELS_PATH') return new ById((await readChannelPath(read)) as ChannelOf<K>[]);
  const label =
    lists[0] === 'LINE_CHANNELS' ? 'LINE_CHANNELS' : `LINE_CHANNELS_PARAM "${read.optional('LINE_CHANNELS_PARAM')}"`;
  const raw = await read.secret('LINE_CHANNELS');
  if (raw === undefined) return new ById([]);
  return new ById(parseChannelList(raw, label, read) as ChannelOf<K>[]);
}

/** One SecureString per channel under the path: a channel entry (JSON object), its id the parameter's last name segment. */
async function readChannelPath(read: EnvReader): Promise<ChannelConfig[]> {
  const label = `LINE_CHANNELS_PATH "${read.optional('LINE_CHANNELS_PATH')}"`;
  const values = await read.secretsByPath('LINE_CHANNELS_PATH');
  if (values === undefined) return [];
  const names = Object.keys(values).sort();
  if (names.length === 0)
    read.problem(label, 'holds no parameters: put one SecureString per channel under it, named by the channel id');
  return names.flatMap((name) => {
    let entry: unknown;
    try {
      entry = JSON.parse(values[name] as string);
    } catch (error) {
      read.problem(`${label} ${name}`, jsonProblem(error));
      return [];
    }
    const withId =
      typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? { id: name, ...entry } : entry;
    const channel = parseChannelEntry(withId, `${label} ${name}`, read);
    if (channel !== undefined && channel.id !== name)
      read.problem(`${label} ${name}: id`, `"${channel.id}" differs from the parameter's name: the name is the id`);
    return channel === undefined ? [] : [channel];
  });
}

async function readSingleChannel<K extends ChannelField>(read: EnvReader, needs: readonly K[]): Promise<ChannelOf<K>> {
  const destinations = list(read.optional('LINE_EXPECTED_DESTINATIONS'));
  if (destinations.length > 1)
    read.problem('LINE_EXPECTED_DESTINATIONS', 'names one bot per channel: for several channels use LINE_CHANNELS');
  const channel: Partial<ChannelConfig> = {
    id: DEFAULT_CHANNEL_ID,
    capillaryOrg: DEFAULT_CAPILLARY_ORG_ID,
    ...optionalField('destination', destinations[0]),
    ...optionalField('lineLoginChannelId', read.optional('LINE_LOGIN_CHANNEL_ID')),
    ...readSingleChannelLoyalty(read),
  };
  // Comma-separated: during a secret rotation both the old and the new secret are accepted.
  if (needs.includes('channelSecrets' as K)) channel.channelSecrets = list(await read.secret('LINE_CHANNEL_SECRET'));
  if (needs.includes('channelAccessToken' as K))
    channel.channelAccessToken = (await read.secret('LINE_CHANNEL_ACCESS_TOKEN')) ?? '';
  if (needs.includes('capillaryLineAccountId' as K))
    channel.capillaryLineAccountId = read.required('CAPILLARY_LINE_ACCOUNT_ID');
  return channel as ChannelOf<K>;
}

const optionalField = <N extends string>(name: N, value: string | undefined): Partial<Record<N, string>> =>
  (value === undefined ? {} : { [name]: value }) as Partial<Record<N, string>>;

const EXAMPLE = '[{"id": "th", "channelSecret": "…", "channelAccessToken": "…", "capillaryLineAccountId": "…"}]';

/** Checks the whole list: every problem names the channel (or its position) and the field, never a value. */
function parseChannelList(raw: string, label: string, log: ProblemLog): ChannelConfig[] {
  return parseEntries(raw, label, EXAMPLE, log, (entry, at) => parseChannelEntry(entry, at, log));
}

function parseChannelEntry(entry: unknown, at: string, log: ProblemLog): ChannelConfig | undefined {
  const fields = entryFields(entry, at, LIST_FIELDS, CHANNEL_ID_PATTERN, log);
  if (fields === undefined) return undefined;
  const destination = fields.text('destination', false);
  if (destination !== undefined && !BOT_USER_ID_PATTERN.test(destination)) {
    fields.problem(
      'destination',
      "must be the bot's user id, U followed by 32 hex digits (GET /v2/bot/info answers it as userId)",
    );
  }
  return {
    id: fields.id,
    channelSecrets: list(fields.text('channelSecret', true)),
    channelAccessToken: fields.text('channelAccessToken', true) ?? '',
    capillaryLineAccountId: fields.text('capillaryLineAccountId', true) ?? '',
    capillaryOrg: fields.text('capillaryOrg', false) ?? DEFAULT_CAPILLARY_ORG_ID,
    ...optionalField('destination', destination),
    ...optionalField('lineLoginChannelId', fields.text('lineLoginChannelId', false)),
    ...optionalField('lineProvider', fields.text('lineProvider', false)),
    ...channelLoyaltyOf(entry, `${at} (id "${fields.id}")`, log),
    ...(isRecord(entry) && entry.engagementEvents !== undefined ? { engagementEvents: entry.engagementEvents } : {}),
  };
}
