/**
 * Which LINE engagement (a postback tap, a beacon, a paid membership, a video watched, a keyword) becomes which
 * Capillary behavioural event (docs/engagement.md). Pure: no AWS, no HTTP. Capillary keeps behavioural events
 * after a PII deletion, so attributes are read only from an allow-list of LINE event paths that never hold
 * personal data: the LINE user id, message text, reply tokens and link nonces cannot be mapped at all.
 */
import { isRecord } from '../is-record';

export const ENGAGEMENT_TYPES = ['postback', 'beacon', 'membership', 'videoPlayComplete', 'message'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

const FILTER_NAMES = ['data', 'hwid', 'beaconType', 'membershipType', 'trackingId', 'text'] as const;
type FilterName = (typeof FILTER_NAMES)[number];
/** The optional filters of a rule: where each reads the LINE event, for which type, and its allowed values. */
const FILTERS: Record<FilterName, { type: EngagementType; path: string; values?: readonly string[] }> = {
  data: { type: 'postback', path: 'postback.data' },
  hwid: { type: 'beacon', path: 'beacon.hwid' },
  beaconType: { type: 'beacon', path: 'beacon.type', values: ['enter', 'banner', 'stay'] },
  membershipType: { type: 'membership', path: 'membership.type', values: ['joined', 'left', 'renewed'] },
  trackingId: { type: 'videoPlayComplete', path: 'videoPlayComplete.trackingId' },
  text: { type: 'message', path: 'message.text' },
};
const RULE_FIELDS = ['type', 'event', 'attributes', ...FILTER_NAMES];

/** A dotted path that parseEngagementRules checked against the allow-list: nothing else can be mapped. */
export type SafeEventPath = string & { readonly __allowListed: unique symbol };

export type EngagementRule = {
  type: EngagementType;
  /** the Capillary behavioural event's name */
  event: string;
  /** Capillary field → where its value is in the LINE event */
  attributes: Readonly<Record<string, SafeEventPath>>;
} & Partial<Record<FilterName, string>>;

/** The LINE webhook event as queued: only these fields are relied on, every other one is read by path. */
export interface EngagementLineEvent {
  type: string;
  webhookEventId: string;
  timestamp: number;
  [field: string]: unknown;
}

/** Paths that hold no personal data. */
const COMMON_PATHS = ['type', 'mode', 'timestamp', 'webhookEventId', 'deliveryContext.isRedelivery', 'source.type'];
const SAFE_PATHS: Record<EngagementType, readonly string[]> = {
  postback: ['postback.data', 'postback.params.*'],
  beacon: ['beacon.hwid', 'beacon.type', 'beacon.dm'],
  membership: ['membership.type', 'membership.membershipId'],
  videoPlayComplete: ['videoPlayComplete.trackingId'],
  message: ['message.type'],
};
/** Why a well-known path is refused, for a problem that says more than "not allowed". */
const PERSONAL_PATHS: readonly [RegExp, string][] = [
  [/^source\.(userId|groupId|roomId)$/, 'it identifies the LINE user, group or room'],
  [/^message\./, 'it is what the user sent'],
  [/^replyToken$/, 'it is a reply credential'],
  [/^link\./, 'it belongs to account linking (the nonce)'],
];

/** Capillary's custom attribute names are at most 50 characters (docs/engagement.md#limits); event names alike. */
const CAPILLARY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,49}$/;
const PATH = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/;
/** Capillary allows 20 attributes per event; the bridge always sends 4 of its own. */
export const MAX_MAPPED_ATTRIBUTES = 16;
export const DEFAULT_CUSTOMER_FIELD = 'customer_id';
const STANDARD_FIELDS = ['event_name', 'external_event_id', 'eventDateTime'];

/** The rules, or every problem (each naming its rule): the rules are unusable unless `problems` is empty. */
export type ParsedEngagementRules = { rules: EngagementRule[]; problems: string[] };

/** `*` stands for one name: `postback.params.*` allows `postback.params.date`, not `postback.params.a.b`. */
const allows = (allowed: string, path: string) =>
  new RegExp(`^${allowed.replaceAll('.', '\\.').replace('*', '\\w+')}$`).test(path);

function pathProblem(type: EngagementType, path: string): string | undefined {
  const allowed = [...COMMON_PATHS, ...SAFE_PATHS[type]];
  if (allowed.some((candidate) => allows(candidate, path))) return undefined;
  const reason = PERSONAL_PATHS.find(([pattern]) => pattern.test(path))?.[1] ?? 'it is not on the allow-list';
  return (
    `path "${path}" is refused: ${reason}. Capillary keeps behavioural events after a PII deletion, so a ` +
    `${type} rule maps only ${allowed.join(', ')}`
  );
}

function attributeProblem(field: string, path: unknown, type: EngagementType | undefined, customerField: string) {
  if (!CAPILLARY_NAME.test(field)) return 'is not a Capillary field name: a letter, then letters, digits or _';
  if ([...STANDARD_FIELDS, customerField].includes(field)) return 'is a field the bridge sets itself';
  if (typeof path !== 'string' || !PATH.test(path))
    return 'must be a dotted path in the LINE event, e.g. "postback.data"';
  return type === undefined ? undefined : pathProblem(type, path);
}

type Problem = (field: string, text: string) => void;

function parseFilters(raw: Record<string, unknown>, type: EngagementType | undefined, problem: Problem) {
  const filters: Partial<Record<FilterName, string>> = {};
  for (const filter of FILTER_NAMES) {
    const value = raw[filter];
    if (value === undefined) continue;
    const { type: filterType, path, values } = FILTERS[filter];
    if (type !== undefined && filterType !== type) problem(filter, `filters ${filterType} events only, not ${type}`);
    else if (typeof value !== 'string' || value === '') problem(filter, `must be a non-empty string (${path})`);
    else if (values !== undefined && !values.includes(value)) problem(filter, `must be one of ${values.join(', ')}`);
    else filters[filter] = value;
  }
  return filters;
}

function parseAttributes(raw: unknown, type: EngagementType | undefined, customerField: string, problem: Problem) {
  const attributes: Record<string, SafeEventPath> = {};
  if (raw !== undefined && !isRecord(raw)) problem('attributes', 'must map Capillary field names to LINE event paths');
  const entries = isRecord(raw) ? Object.entries(raw) : [];
  if (entries.length > MAX_MAPPED_ATTRIBUTES)
    problem(
      'attributes',
      `has ${entries.length} fields; at most ${MAX_MAPPED_ATTRIBUTES} (Capillary allows 20 in all)`,
    );
  for (const [field, path] of entries) {
    const trouble = attributeProblem(field, path, type, customerField);
    if (trouble === undefined) attributes[field] = path as SafeEventPath;
    else problem(`attributes.${field}`, trouble);
  }
  return attributes;
}

function parseRule(raw: unknown, at: string, customerField: string, problems: string[]): EngagementRule | undefined {
  if (!isRecord(raw)) return void problems.push(`${at} must be an object`);
  const event = typeof raw.event === 'string' && CAPILLARY_NAME.test(raw.event) ? raw.event : undefined;
  const where = event === undefined ? at : `${at} (event "${event}")`;
  const count = problems.length;
  const problem: Problem = (field, text) => void problems.push(`${where}: ${field} ${text}`);
  if (event === undefined)
    problem('event', 'must be a Capillary event name: a letter, then letters, digits or _ (at most 50)');
  const type = ENGAGEMENT_TYPES.find((candidate) => candidate === raw.type);
  if (type === undefined) problem('type', `must be one of ${ENGAGEMENT_TYPES.join(', ')}`);
  for (const field of Object.keys(raw))
    if (!RULE_FIELDS.includes(field)) problem(field, `is not a rule field (known: ${RULE_FIELDS.join(', ')})`);
  const filters = parseFilters(raw, type, problem);
  const attributes = parseAttributes(raw.attributes, type, customerField, problem);
  if (problems.length > count || type === undefined || event === undefined) return undefined;
  return { type, event, attributes, ...filters };
}

/**
 * LINE_ENGAGEMENT_EVENTS (or a channel's `engagementEvents`), already JSON-parsed. Absent or [] = no rules.
 * `where` names the setting in every problem; `customerField` is the field the customer goes in.
 */
export function parseEngagementRules(
  json: unknown,
  where: string,
  customerField = DEFAULT_CUSTOMER_FIELD,
): ParsedEngagementRules {
  if (json === undefined) return { rules: [], problems: [] };
  if (!Array.isArray(json))
    return { rules: [], problems: [`${where} must be a JSON array of rules, e.g. [{"type": "postback", …}]`] };
  const problems: string[] = [];
  const rules = json.flatMap((raw, index) => parseRule(raw, `${where}[${index}]`, customerField, problems) ?? []);
  return { rules: problems.length === 0 ? rules : [], problems };
}

/** The value at a dotted path, or undefined where the event has none. */
function valueAt(event: EngagementLineEvent, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), event);
}

function filterMatches(filter: FilterName, wanted: string, event: EngagementLineEvent): boolean {
  const actual = valueAt(event, FILTERS[filter].path);
  if (filter === 'text' && valueAt(event, 'message.type') !== 'text') return false;
  if (filter === 'data' && wanted.endsWith('*'))
    return typeof actual === 'string' && actual.startsWith(wanted.slice(0, -1));
  return actual === wanted;
}

/** The first rule that matches the event (rules are in the configured order), or undefined: no event to post. */
export function matchEngagement(
  rules: readonly EngagementRule[],
  event: EngagementLineEvent,
): EngagementRule | undefined {
  return rules.find(
    (rule) =>
      rule.type === event.type &&
      FILTER_NAMES.every((filter) => rule[filter] === undefined || filterMatches(filter, rule[filter], event)),
  );
}

export type AttributeValue = string | number | boolean;

/** The rule's attributes read from the event; a path the event does not have (or holds no scalar at) is left out. */
export function engagementAttributes(rule: EngagementRule, event: EngagementLineEvent): Record<string, AttributeValue> {
  return Object.fromEntries(
    Object.entries(rule.attributes).flatMap(([field, path]) => {
      const value = valueAt(event, path);
      return ['string', 'number', 'boolean'].includes(typeof value) ? [[field, value as AttributeValue]] : [];
    }),
  );
}
