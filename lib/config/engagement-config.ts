/**
 * LINE engagement → Capillary behavioural events (docs/engagement.md): the rules (LINE_ENGAGEMENT_EVENTS, or a
 * channel's `engagementEvents`) and where and how the matched events are posted. No rule anywhere = off.
 */
import { isTimeZone } from '../domain/behavioural-event-body';
import { parseEngagementRules, type EngagementRule } from '../domain/engagement-rules';
import type { ChannelConfig } from './channels';
import { DEFAULTS } from './defaults';
import type { EnvReader } from './env-reader';

export interface EngagementPosting {
  /** the behavioural-events integration URL Capillary generated */
  url: string;
  /** `user:password` of that integration */
  credentials: string;
  /** IANA zone eventDateTime is written in */
  timeZone: string;
  /** the event's field of type customer */
  customerField: string;
  /** the ingest URL's own budget, shared by every worker instance */
  rateLimitPerMinute: number;
}

export interface EngagementSettings {
  /** each channel's rules, first match wins; a channel without rules posts nothing */
  rulesByChannel: ReadonlyMap<string, readonly EngagementRule[]>;
  /** undefined when no channel has rules */
  posting: EngagementPosting | undefined;
}

const parseJson = (read: EnvReader, name: string, raw: string | undefined): unknown => {
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    read.problem(name, `is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
};

/** Each channel's rules; every malformed rule is a problem naming the setting and the rule (the cold start fails). */
export function readEngagementRules(
  read: EnvReader,
  channels: readonly Pick<ChannelConfig, 'id' | 'engagementEvents'>[],
): EngagementSettings['rulesByChannel'] {
  const customerField = readCustomerField(read);
  const parse = (json: unknown, where: string) => {
    const { rules, problems } = parseEngagementRules(json, where, customerField);
    // Each problem names its rule (`where[i] (event "…"): field …`): the rule is the problem's name.
    for (const problem of problems) {
      const [rule, ...detail] = problem.split(': ');
      if (detail.length === 0) read.problem(where, problem.slice(where.length).trim());
      else read.problem(rule as string, detail.join(': '));
    }
    return rules;
  };
  const sharedRules = parse(
    parseJson(read, 'LINE_ENGAGEMENT_EVENTS', read.optional('LINE_ENGAGEMENT_EVENTS')),
    'LINE_ENGAGEMENT_EVENTS',
  );
  return new Map(
    channels.map((channel) => [
      channel.id,
      channel.engagementEvents === undefined
        ? sharedRules
        : parse(channel.engagementEvents, `channel "${channel.id}": engagementEvents`),
    ]),
  );
}

/** The rules, and where and how the matched events are posted when any channel has one. */
export async function readEngagementSettings(
  read: EnvReader,
  channels: readonly Pick<ChannelConfig, 'id' | 'engagementEvents'>[],
): Promise<EngagementSettings> {
  const rulesByChannel = readEngagementRules(read, channels);
  const anyRule = [...rulesByChannel.values()].some((rules) => rules.length > 0);
  return { rulesByChannel, posting: anyRule ? await readPosting(read, readCustomerField(read)) : undefined };
}

const readCustomerField = (read: EnvReader): string =>
  read.optional('CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD') ?? DEFAULTS.CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD;

async function readPosting(read: EnvReader, customerField: string): Promise<EngagementPosting> {
  const timeZone =
    read.optional('CAPILLARY_BEHAVIOURAL_EVENTS_TIMEZONE') ?? DEFAULTS.CAPILLARY_BEHAVIOURAL_EVENTS_TIMEZONE;
  if (!isTimeZone(timeZone))
    read.problem('CAPILLARY_BEHAVIOURAL_EVENTS_TIMEZONE', 'must be an IANA time zone name, e.g. Asia/Bangkok');
  if (!/^[A-Za-z][A-Za-z0-9_]{0,49}$/.test(customerField))
    read.problem('CAPILLARY_BEHAVIOURAL_EVENTS_CUSTOMER_FIELD', 'must be a Capillary field name');
  const credentials = (await read.secret('CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS')) ?? '';
  if (credentials !== '' && !credentials.includes(':'))
    read.problem('CAPILLARY_BEHAVIOURAL_EVENTS_CREDENTIALS', 'must be user:password of the integration');
  return {
    url: read.url('CAPILLARY_BEHAVIOURAL_EVENTS_URL'),
    credentials,
    timeZone,
    customerField,
    rateLimitPerMinute: read.integer(
      'CAPILLARY_BEHAVIOURAL_EVENTS_RATE_LIMIT_RPM',
      DEFAULTS.CAPILLARY_BEHAVIOURAL_EVENTS_RATE_LIMIT_RPM,
      1,
      1_000_000,
    ),
  };
}
