/**
 * A local Capillary CRM that follows docs/capillary.md: OAuth token and till Basic auth, add
 * customer with per-source/account identifier uniqueness and automatic merge (8006 / 8050), lookup
 * (8015), subscription updates (11xx codes), and the bulk upsert (per-record results and errors, a
 * record that is applied and failed at once, merges, `subscriptionInfo`), and the behavioural-events integration URL
 * (behavioural-events-ingest.ts). Everything the docs mark Unconfirmed (HTTP statuses,
 * LINE lookup, channel spelling, subscriptions on add, several sources in one add) is an option, so tests can play each reading.
 * Tiers and points per customer, and the loyalty embeds of a customer read: capillary-loyalty.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { isRecord } from '../../lib/is-record';
import { LOCAL_CREDENTIALS } from '../local-credentials';
import {
  BehaviouralEventsIngest,
  behaviouralEventsPath,
  parseRefusal,
  type BehaviouralEventRefusal,
  type BehaviouralEventsOptions,
  type BehaviouralEventsState,
} from './behavioural-events-ingest';
import {
  DEFAULT_LOYALTY_PROGRAM,
  LoyaltyLedger,
  type LoyaltyProgram,
  type MemberLoyaltyRecord,
} from './capillary-loyalty';
import { CapillaryNotifier, type NotificationDelivery, type NotificationTarget } from './capillary-notifier';
import {
  InvalidAdminRequestError,
  StandInSettings,
  startStandInServer,
  type BaseSettings,
  type Clock,
  type Route,
  type RouteHandler,
  type StandInRequest,
  type StandInServer,
} from './standin-kit';

export interface CapillaryStandInOptions {
  /** 0 picks a free port */
  port?: number;
  clientKey?: string;
  clientSecret?: string;
  tillUsername?: string;
  tillPassword?: string;
  oauthHeaderName?: string;
  tokenTtlSeconds?: number;
  /** subscription channel literals accepted as given (case matters); any other → 1101 */
  acceptedSubscriptionChannels?: readonly string[];
  /**
   * `subscriptionInfo` on add customer (documented in the 2025+ docs; whether LINE works there is open):
   * `applied` (default), `warning` = customer created, each subscription answered with warning 91022,
   * `refused` = the whole add refused (HTTP 400, code 400), as an org without the feature might, `ignored` = customer
   * created, the opt-in dropped without a word (the case the worker cannot tell, docs/capillary.md#folded-registration).
   */
  subscriptionInfoOnAdd?: FoldedFormAnswer | 'ignored';
  /**
   * Profiles of several sources in one add customer (Unconfirmed: no documented sample): `applied`
   * (default) makes one customer with all of them, `refused` refuses the add (HTTP 400, code 400).
   */
  profilesOfSeveralSourcesOnAdd?: Exclude<FoldedFormAnswer, 'warning'>;
  /** false → lookup with identifierName=line answers 8013 */
  supportsLineLookup?: boolean;
  /** HTTP status of 8015 (undocumented) */
  notFoundHttpStatus?: number;
  /** HTTP status of 8006 */
  duplicateHttpStatus?: number;
  /** HTTP status of the 8050 merge success (the docs file it under 500) */
  mergeHttpStatus?: number;
  latencyMs?: number;
  /** over all authenticated /v2 calls in a sliding 60 s window; undefined = unlimited */
  rateLimitPerMinute?: number;
  /** true: a bulk upsert counts once per record against the rate limit; false: once per HTTP request (Unconfirmed) */
  bulkCountsPerRecord?: boolean;
  /** true models an org with CI_MERGE_AUTO_APPROVE: merge requests are approved when filed */
  autoApproveMerges?: boolean;
  /** milliseconds since the epoch; replace to move token expiry and the rate window in tests */
  clock?: Clock;
  /** the behavioural-events integration URL (local/standins/behavioural-events-ingest.ts) */
  behaviouralEvents?: BehaviouralEventsOptions;
  /** posts per sliding 60 s window on that URL, a bucket of its own; undefined = unlimited */
  behaviouralEventsRateLimitPerMinute?: number;
  /** the org's loyalty program, its tiers and their thresholds (capillary-loyalty.ts) */
  loyaltyProgram?: LoyaltyProgram;
  /** where merges, PII deletions and tier changes are notified (Capillary's event notifications); none = not notified */
  notifications?: NotificationTarget;
}

/** A customer merge request (`POST /v2/requests`, docs/capillary.md#merge-requests). */
export interface MergeRequestRecord {
  id: number;
  victimId: number;
  survivorId: number;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
}

export interface CapillarySettings extends BaseSettings {
  /** null = unlimited */
  rateLimitPerMinute: number | null;
  bulkCountsPerRecord: boolean;
  /** null = unlimited */
  behaviouralEventsRateLimitPerMinute: number | null;
}

/** Makes the bulk upsert reject these LINE users' records (no result) `times` times each (0 clears), e.g. to test the per-record retry. */
export interface BulkRejection {
  userIds: string[];
  code: number;
  times: number;
}

/** One record of each of the next `times` bulk upserts rejected (the first), as Capillary may refuse one record of a call. */
export interface FirstBulkRecordRejection {
  bulkRecordRejections: number;
  code: number;
}

export type FoldedFormAnswer = 'applied' | 'warning' | 'refused';
export type Priority = 'TRANS' | 'BULK';
export type SubscriptionType = 'OPTIN' | 'OPTOUT';

export interface Identifier {
  type: string;
  value: string;
}

export interface CustomerProfile {
  source: string;
  /** '' for single-account sources such as INSTORE */
  accountId: string;
  firstName?: string;
  lastName?: string;
  identifiers: Identifier[];
  commChannels: unknown[];
  fields: Record<string, unknown>;
}

export interface SubscriptionRecord {
  /** upper-cased, whichever spelling was accepted */
  channel: string;
  accountId: string;
  priority: Priority;
  type: SubscriptionType;
  sourceName: string;
  orgUnitId?: number;
}

export interface SubscriptionChange extends SubscriptionRecord {
  at: string;
  reason: string;
}

export interface CustomerSnapshot {
  id: number;
  profiles: CustomerProfile[];
  loyaltyInfo?: unknown;
  extendedFields: Record<string, unknown>;
  subscriptions: SubscriptionRecord[];
  subscriptionHistory: SubscriptionChange[];
}

export interface CapillaryState {
  customers: CustomerSnapshot[];
  mergeRequests: MergeRequestRecord[];
  behaviouralEvents: BehaviouralEventsState;
  /** customer id → tier, points and expiry schedule, for the customers whose loyalty was changed */
  loyalty: Record<string, MemberLoyaltyRecord>;
}

export interface CapillaryStandIn extends StandInServer<CapillarySettings> {
  state(): CapillaryState;
  /** every customer holding this identifier in any profile (a LINE user must map to exactly one) */
  customersWithIdentifier(type: string, value: string): CustomerSnapshot[];
  /** authenticated calls refused with 429 by the rate limit since the start or the last reset */
  overLimitCount(): number;
  rejectInBulk(rejection: BulkRejection): void;
  /** the next `times` bulk upserts each have their first record rejected with `code`, whoever it is (chaos faults) */
  rejectFirstBulkRecords(rejection: FirstBulkRecordRejection): void;
  /** a brand's existing member: one INSTORE profile with these identifiers (e.g. `{ mobile: '66812345678' }`) */
  addMember(identifiers: Record<string, string>, names?: { firstName?: string; lastName?: string }): number;
  /** what Capillary's team does with a pending merge request: the merge, notified as Member Care's merges are */
  approveMergeRequest(id: number): MergeRequestRecord;
  /** Capillary's team rejects a pending merge request: nothing merges; notified as `requestUpdated` */
  rejectMergeRequest(id: number): MergeRequestRecord;
  /** Capillary's team approving the requests `approves` picks as soon as they are filed (undefined: none); notified */
  approveMergesWhenFiled(approves: ((request: MergeRequestRecord) => boolean) | undefined): void;
  /** the next `times` adds using this folded form are answered as by an org that does not take it (chaos faults) */
  refuseFoldedForm(refusal: FoldedFormRefusal): void;
  /** the behavioural-events integration URL the bridge posts to (with Basic auth of its credentials) */
  behaviouralEventsUrl: string;
  /** the next `times` well-formed behavioural events are refused with HTTP 400 (bad input) */
  refuseBehaviouralEvents(refusal: BehaviouralEventRefusal): void;
  /** tiers and points per customer (capillary-loyalty.ts) */
  loyalty: LoyaltyLedger;
  /** Member Care merges `victim` into `survivor` (profiles, subscriptions move; the victim id answers 8069 + 91009) */
  mergeCustomers(survivor: number, victim: number): void;
  /** a PII deletion approved and carried out: the customer's reads and writes answer 8109 */
  deleteCustomer(customerId: number): void;
  /** where merges, deletions and tier changes are notified; undefined stops notifying */
  sendNotificationsTo(target: NotificationTarget | undefined): void;
  /** every notification sent, with its attempts and last answer */
  notifications(): NotificationDelivery[];
  /** resolves once every notification sent so far was delivered or given up */
  notificationsSettled(): Promise<void>;
}

export type FoldedForm = 'subscriptionInfo' | 'severalSources';
export interface FoldedFormRefusal {
  form: FoldedForm;
  /** `warning` only for subscriptionInfo */
  answer: Exclude<FoldedFormAnswer, 'applied'>;
  times: number;
}

export type PriorityStates = Partial<Record<Priority, SubscriptionType>>;

export class UnknownCustomerError extends Error {
  constructor(public readonly customerId: number) {
    super(`The Capillary stand-in has no customer ${customerId}`);
    this.name = 'UnknownCustomerError';
  }
}

/** A documented Capillary error: answered as `errors: [{ status: false, code, message }]`. */
class CapillaryRequestError extends Error {
  constructor(
    public readonly code: number,
    message: string,
    public readonly httpStatus: number,
    /** more error items of the same answer (a merge victim's 91009 after its 8069) */
    public readonly alsoErrors: { code: number; message: string }[] = [],
  ) {
    super(message);
    this.name = 'CapillaryRequestError';
  }
}

/** A customer merged away or deleted: what calls naming its id answer (capillary-api docs §17.4). */
type GoneCustomer = { mergedInto: number } | { deleted: true };
const goneCustomerError = (gone: GoneCustomer): CapillaryRequestError =>
  'mergedInto' in gone
    ? new CapillaryRequestError(8069, 'The customer is merged into another account.', 400, [
        { code: 91009, message: `Retrieved survivor account for the requested merge victim: ${gone.mergedInto}` },
      ])
    : new CapillaryRequestError(8109, 'Customer is deleted after PII delete request', 400);

/** The opt-in state per priority, e.g. `{ BULK: 'OPTIN', TRANS: 'OPTIN' }`, of one channel and account. */
/** The customers whose profiles carry this identifier (for `line`, the bridge must leave exactly one per LINE user). */
export function customersWithIdentifier(state: CapillaryState, type: string, value: string): CustomerSnapshot[] {
  return state.customers.filter((customer) =>
    customer.profiles.some((profile) => profile.identifiers.some((own) => own.type === type && own.value === value)),
  );
}

export function subscriptionOf(
  state: CapillaryState,
  customerId: number,
  channel: string,
  accountId: string,
): PriorityStates {
  const customer = state.customers.find((candidate) => candidate.id === customerId);
  if (customer === undefined) throw new UnknownCustomerError(customerId);
  const states: PriorityStates = {};
  for (const subscription of customer.subscriptions) {
    if (subscription.channel === channel.toUpperCase() && subscription.accountId === accountId)
      states[subscription.priority] = subscription.type;
  }
  return states;
}

const SOURCES = new Set([
  'FACEBOOK',
  'WEB_ENGAGE',
  'WECHAT',
  'INSTORE',
  'MARTJACK',
  'TMALL',
  'TAOBAO',
  'JD',
  'ECOMMERCE',
  'WEBSITE',
  'LINE',
  'MOBILE_APP',
]);
const MULTI_ACCOUNT_SOURCES = new Set(['LINE', 'FACEBOOK', 'WECHAT', 'MOBILE_APP']);
const IDENTIFIER_TYPES = new Set([
  'mobile',
  'email',
  'externalId',
  'wechat',
  'unionId',
  'martjackId',
  'fbId',
  'tmall_uname',
  'cuid',
  'ali_uname',
  'jd_uname',
  'vip_uname',
  'line',
  'cardnumber',
]);
const LOOKUP_IDENTIFIER_NAMES = new Set([
  'mobile',
  'email',
  'externalId',
  'cardnumber',
  'wechat',
  'martjackId',
  'fbId',
]);
const PRIORITIES = new Set<string>(['TRANS', 'BULK']);
const SUBSCRIPTION_TYPES = new Set<string>(['OPTIN', 'OPTOUT']);
const FIRST_CUSTOMER_ID = 500_000_001;
const FIRST_REQUEST_ID = 13_000_001;
const RATE_WINDOW_MS = 60_000;

const NOT_FOUND = { code: 8015, message: 'Customer not found for the given identifiers' };
const MERGED = { code: 8050, message: 'Same Customer found in other sources,Combining' };
/** A merge victim's id answers this on every call naming it (docs/capillary.md#codes). */
const MERGED_AWAY = { code: 8069, message: 'The customer is merged into another account' };
const MERGE_PENDING = { code: 9018, message: 'A merge request is already pending for the victim' };
const ALREADY_MERGED = { code: 9023, message: 'The customers are already merged' };
const STATUS_LABEL_INVALID = { code: 3017, message: 'Status label is invalid' };
/** Labels the stand-in org has configured; any other `statusLabel` gives the documented applied-yet-failed record. */
const STATUS_LABELS = new Set(['Active']);

interface StoredCustomer {
  id: number;
  profiles: CustomerProfile[];
  loyaltyInfo?: unknown;
  extendedFields: Record<string, unknown>;
  /** keyed by channel (upper-cased), accountId and priority */
  subscriptions: Map<string, SubscriptionRecord>;
  history: SubscriptionChange[];
}

function envelopeItem(code: number, text: string) {
  return { status: false, code, message: text };
}

function errorEnvelope(code: number, text: string) {
  return { warnings: [], errors: [envelopeItem(code, text)] };
}

function md5Hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** Identifiers are unique per source, and per account within a multi-account source such as LINE. */
function scopeOf(profile: Pick<CustomerProfile, 'source' | 'accountId'>): string {
  return MULTI_ACCOUNT_SOURCES.has(profile.source) ? `${profile.source}/${profile.accountId}` : profile.source;
}

function hasIdentifier(profile: CustomerProfile, identifier: Identifier): boolean {
  return profile.identifiers.some((own) => own.type === identifier.type && own.value === identifier.value);
}

function subscriptionKey(subscription: SubscriptionRecord): string {
  return [subscription.channel, subscription.accountId, subscription.priority].join('|');
}

function snapshotOf(customer: StoredCustomer): CustomerSnapshot {
  return structuredClone({
    id: customer.id,
    profiles: customer.profiles,
    ...(customer.loyaltyInfo === undefined ? {} : { loyaltyInfo: customer.loyaltyInfo }),
    extendedFields: customer.extendedFields,
    subscriptions: [...customer.subscriptions.values()],
    subscriptionHistory: customer.history,
  });
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function parseIdentifier(raw: unknown): Identifier {
  if (
    !isRecord(raw) ||
    typeof raw.type !== 'string' ||
    !IDENTIFIER_TYPES.has(raw.type) ||
    typeof raw.value !== 'string' ||
    raw.value === ''
  ) {
    throw new CapillaryRequestError(8013, 'Invalid identifier', 400);
  }
  return { type: raw.type, value: raw.value };
}

function parseProfile(raw: unknown): CustomerProfile {
  if (!isRecord(raw)) throw new CapillaryRequestError(400, 'Each profile must be an object', 400);
  if (typeof raw.source !== 'string' || !SOURCES.has(raw.source))
    throw new CapillaryRequestError(3217, 'Invalid source', 400);
  const accountId = typeof raw.accountId === 'number' ? String(raw.accountId) : (optionalString(raw.accountId) ?? '');
  if (MULTI_ACCOUNT_SOURCES.has(raw.source) && accountId === '')
    throw new CapillaryRequestError(8045, 'accountId is not passed', 400);
  if (!Array.isArray(raw.identifiers) || raw.identifiers.length === 0)
    throw new CapillaryRequestError(8013, 'Invalid identifier', 400);
  const firstName = optionalString(raw.firstName)?.trim();
  const lastName = optionalString(raw.lastName)?.trim();
  return {
    source: raw.source,
    accountId,
    ...(firstName === undefined ? {} : { firstName }),
    ...(lastName === undefined ? {} : { lastName }),
    identifiers: raw.identifiers.map(parseIdentifier),
    commChannels: Array.isArray(raw.commChannels) ? raw.commChannels : [],
    fields: isRecord(raw.fields) ? raw.fields : {},
  };
}

function parseProfiles(body: unknown): CustomerProfile[] {
  if (!isRecord(body) || !Array.isArray(body.profiles) || body.profiles.length === 0) {
    throw new CapillaryRequestError(400, 'profiles must be a non-empty array', 400);
  }
  return body.profiles.map(parseProfile);
}

function parseScope(raw: unknown): void {
  if (Array.isArray(raw) && raw.length > 1)
    throw new CapillaryRequestError(1105, 'Multiple scopes are not allowed', 400);
  const scope: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (!isRecord(scope) || scope.scope !== 'USER') throw new CapillaryRequestError(1103, 'Invalid scope', 400);
}

function parseRejection(body: unknown): BulkRejection {
  if (!isRecord(body) || !Array.isArray(body.userIds) || !body.userIds.every((id) => typeof id === 'string')) {
    throw new InvalidAdminRequestError('body must be {"userIds": [...], "code": N, "times": N}');
  }
  const code = Number.isInteger(body.code) ? (body.code as number) : 8013;
  const times = Number.isInteger(body.times) && (body.times as number) >= 1 ? (body.times as number) : 1;
  return { userIds: body.userIds as string[], code, times };
}

export async function startCapillaryStandIn(options: CapillaryStandInOptions = {}): Promise<CapillaryStandIn> {
  const behaviour = {
    clientKey: options.clientKey ?? LOCAL_CREDENTIALS.capillaryClientKey,
    clientSecret: options.clientSecret ?? LOCAL_CREDENTIALS.capillaryClientSecret,
    tillUsername: options.tillUsername ?? 'local.till',
    tillPassword: options.tillPassword ?? 'local-password',
    oauthHeaderName: (options.oauthHeaderName ?? 'X-CAP-API-OAUTH-TOKEN').toLowerCase(), // node lower-cases header names
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
    acceptedSubscriptionChannels: options.acceptedSubscriptionChannels ?? ['LINE', 'line'],
    subscriptionInfoOnAdd: options.subscriptionInfoOnAdd ?? 'applied',
    profilesOfSeveralSourcesOnAdd: options.profilesOfSeveralSourcesOnAdd ?? 'applied',
    supportsLineLookup: options.supportsLineLookup ?? true,
    notFoundHttpStatus: options.notFoundHttpStatus ?? 400,
    duplicateHttpStatus: options.duplicateHttpStatus ?? 400,
    mergeHttpStatus: options.mergeHttpStatus ?? 200,
    autoApproveMerges: options.autoApproveMerges ?? false,
  };
  const clock = options.clock ?? Date.now;
  const settings = new StandInSettings<CapillarySettings>({
    latencyMs: options.latencyMs ?? 0,
    maxTransitMs: null,
    rateLimitPerMinute: options.rateLimitPerMinute ?? null,
    bulkCountsPerRecord: options.bulkCountsPerRecord ?? true,
    behaviouralEventsRateLimitPerMinute: options.behaviouralEventsRateLimitPerMinute ?? null,
  });
  const behaviouralEvents = new BehaviouralEventsIngest(options.behaviouralEvents ?? {}, clock, errorEnvelope);

  const customers = new Map<number, StoredCustomer>();
  const program = options.loyaltyProgram ?? DEFAULT_LOYALTY_PROGRAM;
  // The notifier is made below; tiers and points only change once the stand-in serves.
  const loyalty = new LoyaltyLedger(program, (id) => customers.has(id), {
    tierChanged: (change) => notifier.tierChanged(change, program),
    pointsChanged: (change) => notifier.pointsChanged(change, program),
  });
  let nextCustomerId = FIRST_CUSTOMER_ID;
  // Tokens are the API client's sessions: a data reset does not revoke them (clients cache tokens).
  const tokenExpiries = new Map<string, number>();
  let acceptedCallTimes: number[] = [];
  let overLimit = 0;
  const mergeRequests = new Map<number, MergeRequestRecord>();
  let nextRequestId = FIRST_REQUEST_ID;
  let oneOffRefusals: FoldedFormRefusal[] = [];
  const goneCustomers = new Map<number, GoneCustomer>();
  const notifier = new CapillaryNotifier(clock);
  notifier.configure(options.notifications);
  let nextDeletionRequestId = FIRST_REQUEST_ID + 5_000_000;

  const isAuthenticated = (headers: IncomingHttpHeaders): boolean => {
    const token = headers[behaviour.oauthHeaderName];
    if (typeof token === 'string') return (tokenExpiries.get(token) ?? 0) > clock();
    const basic = headers.authorization?.match(/^Basic (.+)$/)?.[1];
    return (
      basic !== undefined &&
      Buffer.from(basic, 'base64').toString('utf8') === `${behaviour.tillUsername}:${md5Hex(behaviour.tillPassword)}`
    );
  };

  /** Sliding window over accepted calls only: a refused call does not push the window further out. */
  const withinRateLimit = (cost: number): boolean => {
    const now = clock();
    acceptedCallTimes = acceptedCallTimes.filter((time) => time > now - RATE_WINDOW_MS);
    const limit = settings.current.rateLimitPerMinute;
    if (limit !== null && acceptedCallTimes.length + cost > limit) return false;
    for (let taken = 0; taken < cost; taken++) acceptedCallTimes.push(now);
    return true;
  };

  const answersErrors =
    (handle: RouteHandler): RouteHandler =>
    async (request, params) => {
      try {
        return await handle(request, params);
      } catch (error) {
        if (!(error instanceof CapillaryRequestError)) throw error;
        const body = errorEnvelope(error.code, error.message);
        body.errors.push(...error.alsoErrors.map(({ code, message }) => envelopeItem(code, message)));
        return { status: error.httpStatus, body };
      }
    };

  /** Every /v2 route: authenticate, then count against the rate limit (`cost` calls, 1 unless the route says). */
  const authenticated = (handle: RouteHandler, costOf: (request: StandInRequest) => number = () => 1): RouteHandler => {
    const guarded = answersErrors(handle);
    return (request, params) => {
      if (!isAuthenticated(request.headers))
        return { status: 401, body: errorEnvelope(401, 'Authentication failed: invalid or expired credentials') };
      if (!withinRateLimit(costOf(request))) {
        overLimit += 1;
        return { status: 429, body: errorEnvelope(429, 'Rate limit exceeded, try after some time') };
      }
      return guarded(request, params);
    };
  };

  /** victim id → survivor id of every approved merge: what a call naming the victim is answered with */
  const mergedAway = new Map<number, number>();

  const customerById = (rawId: string | undefined, missing: CapillaryRequestError): StoredCustomer => {
    const customer = customers.get(Number(rawId));
    if (customer === undefined && mergedAway.has(Number(rawId)))
      throw new CapillaryRequestError(MERGED_AWAY.code, MERGED_AWAY.message, 400);
    const gone = goneCustomers.get(Number(rawId));
    if (customer === undefined && gone !== undefined) throw goneCustomerError(gone);
    if (customer === undefined) throw missing;
    return customer;
  };

  const holderOf = (identifier: Identifier, inScope: (scope: string) => boolean): StoredCustomer | undefined =>
    [...customers.values()].find((customer) =>
      customer.profiles.some((profile) => inScope(scopeOf(profile)) && hasIdentifier(profile, identifier)),
    );

  const rejectDuplicates = (profiles: CustomerProfile[]): void => {
    const taken = profiles.some((profile) =>
      profile.identifiers.some((identifier) => holderOf(identifier, (scope) => scope === scopeOf(profile))),
    );
    if (taken)
      throw new CapillaryRequestError(8006, 'Customer already exists for same source', behaviour.duplicateHttpStatus);
  };

  /** The first existing customer holding any of these identifiers in another source or account (the merge survivor). */
  const mergeTarget = (profiles: CustomerProfile[]): StoredCustomer | undefined => {
    for (const profile of profiles) {
      for (const identifier of profile.identifiers) {
        const holder = holderOf(identifier, (scope) => scope !== scopeOf(profile));
        if (holder !== undefined) return holder;
      }
    }
    return undefined;
  };

  const createCustomer = (body: Record<string, unknown>): StoredCustomer => {
    const customer: StoredCustomer = {
      id: nextCustomerId++,
      profiles: [],
      ...(body.loyaltyInfo === undefined ? {} : { loyaltyInfo: body.loyaltyInfo }),
      extendedFields: isRecord(body.extendedFields) ? body.extendedFields : {},
      subscriptions: new Map(),
      history: [],
    };
    customers.set(customer.id, customer);
    return customer;
  };

  const parseSubscription = (raw: unknown): SubscriptionRecord => {
    if (!isRecord(raw)) throw new CapillaryRequestError(400, 'Each subscription must be an object', 400);
    if (typeof raw.channel !== 'string' || !behaviour.acceptedSubscriptionChannels.includes(raw.channel)) {
      throw new CapillaryRequestError(1101, 'Invalid channel', 400);
    }
    if (typeof raw.priority !== 'string' || !PRIORITIES.has(raw.priority))
      throw new CapillaryRequestError(1102, 'Invalid priority', 400);
    if (typeof raw.type !== 'string' || !SUBSCRIPTION_TYPES.has(raw.type))
      throw new CapillaryRequestError(1106, 'Invalid subscription status', 400);
    return {
      channel: raw.channel.toUpperCase(),
      accountId: typeof raw.accountId === 'number' ? String(raw.accountId) : (optionalString(raw.accountId) ?? ''),
      priority: raw.priority as Priority,
      type: raw.type as SubscriptionType,
      sourceName: optionalString(raw.sourceName) ?? '',
      ...(typeof raw.orgUnitId === 'number' ? { orgUnitId: raw.orgUnitId } : {}),
    };
  };

  const recordSubscription = (customer: StoredCustomer, subscription: SubscriptionRecord, reason: string): void => {
    customer.subscriptions.set(subscriptionKey(subscription), subscription);
    customer.history.push({ ...subscription, at: new Date(clock()).toISOString(), reason });
  };

  /** On add, a subscription that cannot be set is a secondary failure: a warning, the customer still counts. */
  const subscribeOnRegistration = (
    customer: StoredCustomer,
    subscriptionInfo: unknown,
    answer: FoldedFormAnswer | 'ignored',
  ) => {
    if (answer === 'ignored') return [];
    const requested: unknown[] =
      isRecord(subscriptionInfo) && Array.isArray(subscriptionInfo.subscriptions) ? subscriptionInfo.subscriptions : [];
    return requested.flatMap((raw) => {
      try {
        if (answer === 'warning') throw new CapillaryRequestError(1101, 'Invalid channel', 400);
        recordSubscription(customer, parseSubscription(raw), 'add customer');
        return [];
      } catch (error) {
        if (!(error instanceof CapillaryRequestError)) throw error;
        const { channel, priority } = isRecord(raw) ? raw : {};
        return [
          envelopeItem(91022, `Failed to update subscription for ${String(channel)} and priority ${String(priority)}`),
        ];
      }
    });
  };

  /** How this add's use of a folded form is answered: a pending one-off refusal first, else the org's standing reading. */
  const foldedAnswer = (form: FoldedForm): FoldedFormAnswer | 'ignored' => {
    const index = oneOffRefusals.findIndex((refusal) => refusal.form === form);
    const refusal = oneOffRefusals[index];
    if (refusal === undefined)
      return form === 'subscriptionInfo' ? behaviour.subscriptionInfoOnAdd : behaviour.profilesOfSeveralSourcesOnAdd;
    if (refusal.times === 1) oneOffRefusals.splice(index, 1);
    else oneOffRefusals[index] = { ...refusal, times: refusal.times - 1 };
    return refusal.answer;
  };

  const addCustomer: RouteHandler = ({ body }) => {
    const profiles = parseProfiles(body);
    const request = body as Record<string, unknown>; // parseProfiles accepted it as an object
    // The folded forms an org may refuse as a whole, before anything is stored.
    const optInAnswer = request.subscriptionInfo === undefined ? undefined : foldedAnswer('subscriptionInfo');
    if (optInAnswer === 'refused')
      throw new CapillaryRequestError(400, 'subscriptionInfo is not supported on add customer for this org', 400);
    if (new Set(profiles.map((profile) => profile.source)).size > 1 && foldedAnswer('severalSources') === 'refused') {
      throw new CapillaryRequestError(400, 'Profiles of several sources in one request are not supported', 400);
    }
    rejectDuplicates(profiles);
    const survivor = mergeTarget(profiles);
    const customer = survivor ?? createCustomer(request);
    customer.profiles.push(...profiles);
    const subscriptionWarnings =
      optInAnswer === undefined ? [] : subscribeOnRegistration(customer, request.subscriptionInfo, optInAnswer);
    const warnings = [
      ...(survivor === undefined ? [] : [envelopeItem(MERGED.code, MERGED.message)]),
      ...subscriptionWarnings,
    ];
    return {
      status: survivor === undefined ? 200 : behaviour.mergeHttpStatus,
      body: { createdId: customer.id, warnings, sideEffects: [] },
    };
  };

  const lookupCustomer: RouteHandler = ({ query }) => {
    const source = query.get('source') ?? '';
    const accountId = query.get('accountId') ?? '';
    const identifierName = query.get('identifierName') ?? '';
    if (source !== 'ALL' && !SOURCES.has(source)) throw new CapillaryRequestError(8012, 'Invalid source', 400);
    const lookupNames = behaviour.supportsLineLookup
      ? [...LOOKUP_IDENTIFIER_NAMES, 'line']
      : [...LOOKUP_IDENTIFIER_NAMES];
    if (!lookupNames.includes(identifierName)) throw new CapillaryRequestError(8013, 'Invalid identifier name', 400);
    const notFound = new CapillaryRequestError(NOT_FOUND.code, NOT_FOUND.message, behaviour.notFoundHttpStatus);
    if (MULTI_ACCOUNT_SOURCES.has(source) && accountId === '') throw notFound; // documented: a missing accountId reads as not found
    const identifier = { type: identifierName, value: query.get('identifierValue') ?? '' };
    const wanted = source === 'ALL' ? () => true : (scope: string) => scope === scopeOf({ source, accountId });
    const holder = holderOf(identifier, wanted);
    if (holder === undefined) throw notFound;
    return { status: 200, body: { entity: holder.id, warnings: [] } };
  };

  const updateSubscriptions: RouteHandler = ({ body }, [rawId]) => {
    const customer = customerById(rawId, new CapillaryRequestError(1012, 'Customer not found for identifier', 400));
    if (!isRecord(body)) throw new CapillaryRequestError(400, 'Request body must be an object', 400);
    parseScope(body.scope);
    if (!Array.isArray(body.subscriptions) || body.subscriptions.length === 0) {
      throw new CapillaryRequestError(400, 'subscriptions must be a non-empty array', 400);
    }
    // All or nothing: every item is checked before any is stored.
    const subscriptions = body.subscriptions.map(parseSubscription);
    const reason = optionalString(body.reason) ?? '';
    for (const subscription of subscriptions) recordSubscription(customer, subscription, reason);
    return { status: 200, body: { ...body, warnings: [] } };
  };

  const customerNotFound = () =>
    new CapillaryRequestError(NOT_FOUND.code, 'Customer not found', behaviour.notFoundHttpStatus);

  const readSubscriptions: RouteHandler = (_request, [rawId]) => {
    const customer = customerById(rawId, customerNotFound());
    return { status: 200, body: { subscriptions: snapshotOf(customer).subscriptions, warnings: [] } };
  };

  const readCustomer: RouteHandler = ({ query }, [rawId]) => {
    const { id, profiles, loyaltyInfo, extendedFields, subscriptions } = snapshotOf(
      customerById(rawId, customerNotFound()),
    );
    return {
      status: 200,
      body: {
        id,
        profiles,
        loyaltyInfo,
        extendedFields,
        subscriptionInfo: { subscriptions },
        ...loyalty.embeds(id, query.get('embed')),
        warnings: [],
      },
    };
  };

  const bulkRejections = new Map<string, { code: number; times: number }>();

  /** The one applied-yet-failed case the docs show: a record upserted with a status label the org does not have. */
  const statusLabelErrors = (raw: Record<string, unknown>) =>
    raw.statusLabel === undefined || STATUS_LABELS.has(String(raw.statusLabel))
      ? []
      : [envelopeItem(STATUS_LABEL_INVALID.code, STATUS_LABEL_INVALID.message)];

  /**
   * One upsert record: look the customer up by the identifiers of each profile's own source/account → update
   * that profile (identifiers added, names and fields replaced); else an identifier in another source →
   * merge into that customer (8050); else add a customer. Then the inline subscriptions.
   */
  const upsertRecord = (raw: unknown) => {
    try {
      const lineId =
        isRecord(raw) && Array.isArray(raw.profiles)
          ? raw.profiles
              .flatMap((profile) =>
                isRecord(profile) && Array.isArray(profile.identifiers) ? profile.identifiers : [],
              )
              .find((identifier) => isRecord(identifier) && identifier.type === 'line')
          : undefined;
      const rejection = isRecord(lineId) ? bulkRejections.get(String(lineId.value)) : undefined;
      if (rejection !== undefined) {
        if (rejection.times <= 1) bulkRejections.delete(String((lineId as Record<string, unknown>).value));
        else rejection.times -= 1;
        throw new CapillaryRequestError(rejection.code, 'Rejected by the stand-in (injected)', 400);
      }
      const profiles = parseProfiles(raw);
      const record = raw as Record<string, unknown>;
      const warnings: ReturnType<typeof envelopeItem>[] = [];
      let customer: StoredCustomer | undefined;
      for (const profile of profiles) {
        const holder = profile.identifiers
          .map((identifier) => holderOf(identifier, (scope) => scope === scopeOf(profile)))
          .find(Boolean);
        if (holder === undefined) continue;
        customer = holder;
        const own = holder.profiles.find((candidate) => scopeOf(candidate) === scopeOf(profile)) as CustomerProfile;
        for (const identifier of profile.identifiers)
          if (!hasIdentifier(own, identifier)) own.identifiers.push(identifier);
        Object.assign(own, {
          ...(profile.firstName === undefined ? {} : { firstName: profile.firstName }),
          fields: { ...own.fields, ...profile.fields },
        });
      }
      const newProfiles = profiles.filter(
        (profile) => !customer?.profiles.some((candidate) => scopeOf(candidate) === scopeOf(profile)),
      );
      if (customer === undefined) {
        const survivor = mergeTarget(newProfiles);
        if (survivor !== undefined) warnings.push(envelopeItem(MERGED.code, MERGED.message));
        customer = survivor ?? createCustomer(record);
      }
      customer.profiles.push(...newProfiles);
      // The org's standing reading of subscriptionInfo; a refusal is per record here, as a warning.
      const optInAnswer = behaviour.subscriptionInfoOnAdd === 'refused' ? 'warning' : behaviour.subscriptionInfoOnAdd;
      if (record.subscriptionInfo !== undefined)
        warnings.push(...subscribeOnRegistration(customer, record.subscriptionInfo, optInAnswer));
      const errors = statusLabelErrors(record);
      const { id, ...result } = snapshotOf(customer);
      return { entityId: id, result: { id, ...result }, errors, warnings };
    } catch (error) {
      if (!(error instanceof CapillaryRequestError)) throw error;
      return { entityId: null, result: null, errors: [envelopeItem(error.code, error.message)], warnings: [] };
    }
  };

  let firstRecordRejections: FirstBulkRecordRejection = { bulkRecordRejections: 0, code: 8013 };
  const rejectedFirst = (code: number) => ({
    entityId: null,
    result: null,
    errors: [envelopeItem(code, 'Rejected by the stand-in (injected)')],
    warnings: [],
  });

  const bulkUpsert: RouteHandler = ({ body }) => {
    if (!Array.isArray(body) || body.length === 0)
      throw new CapillaryRequestError(400, 'The body must be a non-empty JSON array of customers', 400);
    const rejectFirst = firstRecordRejections.bulkRecordRejections > 0;
    if (rejectFirst) firstRecordRejections.bulkRecordRejections -= 1;
    const response = body.map((raw, index) =>
      rejectFirst && index === 0 ? rejectedFirst(firstRecordRejections.code) : upsertRecord(raw),
    );
    const failureCount = response.filter((item) => item.errors.length > 0).length;
    // 200 all applied, 201 some failed, 500 all failed (docs/capillary.md#http-status-codes); the body has every record.
    const status = failureCount === 0 ? 200 : failureCount < response.length ? 201 : 500;
    return { status, body: { response, totalCount: response.length, failureCount, warnings: [] } };
  };

  const bulkCost = ({ body }: StandInRequest): number =>
    settings.current.bulkCountsPerRecord && Array.isArray(body) ? Math.max(1, body.length) : 1;

  /** Identifiers of one source (and account) on one customer: add and remove (docs/capillary.md#change-identifier). */
  const changeIdentifier: RouteHandler = ({ body, query }, [rawId]) => {
    const customer = customerById(rawId, new CapillaryRequestError(8009, 'Invalid customer id', 400));
    const source = query.get('source') ?? '';
    if (!SOURCES.has(source)) throw new CapillaryRequestError(8012, 'Invalid source', 400);
    const accountId = query.get('accountId') ?? '';
    if (MULTI_ACCOUNT_SOURCES.has(source) && accountId === '')
      throw new CapillaryRequestError(8045, 'accountId is not passed', 400);
    if (!isRecord(body)) throw new CapillaryRequestError(400, 'Request body must be an object', 400);
    const list = (field: 'add' | 'remove') =>
      Array.isArray(body[field]) ? (body[field] as unknown[]).map(parseIdentifier) : [];
    const [added, removed] = [list('add'), list('remove')];
    if (added.length + removed.length === 0)
      throw new CapillaryRequestError(400, 'add or remove must list identifiers', 400);
    const scope = scopeOf({ source, accountId: MULTI_ACCOUNT_SOURCES.has(source) ? accountId : '' });
    if (added.some((identifier) => holderOf(identifier, (candidate) => candidate === scope))) {
      throw new CapillaryRequestError(8007, 'Identifier already exists in the same source', 400);
    }
    // A merge keeps the victim's profile of a scope beside the survivor's: a removal reaches every profile of the scope.
    const inScope = customer.profiles.filter((candidate) => scopeOf(candidate) === scope);
    for (const profile of inScope)
      profile.identifiers = profile.identifiers.filter(
        (own) => !removed.some((gone) => gone.type === own.type && gone.value === own.value),
      );
    const [first] = inScope;
    if (added.length > 0 && first === undefined)
      customer.profiles.push({
        source,
        accountId: MULTI_ACCOUNT_SOURCES.has(source) ? accountId : '',
        identifiers: added,
        commChannels: [],
        fields: {},
      });
    else first?.identifiers.push(...added);
    customer.profiles = customer.profiles.filter(
      (profile) => !inScope.includes(profile) || profile.identifiers.length > 0,
    );
    return { status: 200, body: { createdId: customer.id, warnings: [] } };
  };

  /** Any merge: the victim's profiles, subscriptions and history move to the survivor; the victim is gone. */
  const moveInto = (survivor: StoredCustomer, victim: StoredCustomer): void => {
    survivor.profiles.push(...victim.profiles);
    for (const [key, subscription] of victim.subscriptions)
      if (!survivor.subscriptions.has(key)) survivor.subscriptions.set(key, subscription);
    survivor.history.push(...victim.history);
    customers.delete(victim.id);
  };

  /** Capillary's team approves a pending request: the merge is done and notified like Member Care's. */
  const approveMergeRequest = (id: number): MergeRequestRecord => {
    const request = mergeRequests.get(id);
    if (request === undefined) throw new InvalidAdminRequestError(`no merge request ${id}`);
    const victim = customers.get(request.victimId);
    const survivor = customers.get(request.survivorId);
    if (request.status === 'PENDING' && victim !== undefined && survivor !== undefined) {
      moveInto(survivor, victim);
      mergedAway.set(victim.id, survivor.id);
      request.status = 'APPROVED';
      notifier.merged(survivor.id, victim.id);
    }
    return { ...request };
  };
  /**
   * Rejected by Capillary's team (notified), or withdrawn by its filer with `PUT /v2/requests` (not notified: whether
   * Capillary notifies a filer of its own update is Unconfirmed, and the bridge's record no longer waits for it).
   * Nothing merges.
   */
  const rejectMergeRequest = (id: number, notify = true): MergeRequestRecord => {
    const request = mergeRequests.get(id);
    if (request === undefined) throw new InvalidAdminRequestError(`no merge request ${id}`);
    if (request.status === 'PENDING') {
      request.status = 'REJECTED';
      if (notify) notifier.mergeRequestUpdated(request);
    }
    return { ...request };
  };
  let approvesWhenFiled: ((request: MergeRequestRecord) => boolean) | undefined;

  /** `PUT /v2/requests`: one request's status, APPROVED or REJECTED ("The API does not allow bulk status change"). */
  const updateMergeRequest: RouteHandler = ({ body }) => {
    const [update, ...more] = Array.isArray(body) ? (body as unknown[]) : [];
    if (!isRecord(update) || more.length > 0 || update.type !== 'CHANGE_IDENTIFIER' || update.baseType !== 'MERGE')
      throw new CapillaryRequestError(400, 'one CHANGE_IDENTIFIER / MERGE request update is required', 400);
    const request = mergeRequests.get(Number(update.id));
    if (request === undefined) throw new CapillaryRequestError(404, 'Request not found', 404);
    if (request.status !== 'PENDING') throw new CapillaryRequestError(400, 'Request is not pending', 400);
    if (update.status === 'APPROVED') approveMergeRequest(request.id);
    else if (update.status === 'REJECTED') rejectMergeRequest(request.id, false);
    else throw new CapillaryRequestError(400, 'status must be APPROVED or REJECTED', 400);
    return {
      status: 200,
      body: { entityId: request.id, result: { status: request.status }, warnings: [], totalCount: 1, failureCount: 0 },
    };
  };

  const addMergeRequest: RouteHandler = ({ body, query }) => {
    if (!isRecord(body) || body.type !== 'CHANGE_IDENTIFIER' || body.baseType !== 'MERGE') {
      throw new CapillaryRequestError(400, 'type CHANGE_IDENTIFIER and baseType MERGE are required', 400);
    }
    if (mergedAway.get(Number(body.userId)) === Number(body.survivorUserId))
      throw new CapillaryRequestError(ALREADY_MERGED.code, ALREADY_MERGED.message, 400);
    if ([...mergeRequests.values()].some((r) => r.victimId === Number(body.userId) && r.status === 'PENDING'))
      throw new CapillaryRequestError(MERGE_PENDING.code, MERGE_PENDING.message, 400);
    const victim = customerById(
      String(body.userId),
      new CapillaryRequestError(8009, 'Invalid victim customer id', 400),
    );
    const survivor = customerById(
      String(body.survivorUserId),
      new CapillaryRequestError(8009, 'Invalid survivor customer id', 400),
    );
    const request: MergeRequestRecord = {
      id: nextRequestId++,
      victimId: victim.id,
      survivorId: survivor.id,
      status: 'PENDING',
    };
    mergeRequests.set(request.id, request);
    if (
      behaviour.autoApproveMerges ||
      query.get('client_auto_approve') === 'true' ||
      approvesWhenFiled?.({ ...request }) === true
    )
      approveMergeRequest(request.id);
    return { status: 201, body: { createdId: request.id, warnings: [] } };
  };

  const readMergeRequest: RouteHandler = (_request, [rawId]) => {
    const request = mergeRequests.get(Number(rawId));
    if (request === undefined) throw new CapillaryRequestError(404, 'Request not found', 404);
    return {
      status: 200,
      body: {
        id: request.id,
        type: 'CHANGE_IDENTIFIER',
        baseType: 'MERGE',
        status: request.status,
        userId: request.victimId,
        warnings: [],
      },
    };
  };

  const generateToken: RouteHandler = ({ body }) => {
    if (!isRecord(body) || body.key !== behaviour.clientKey || body.secret !== behaviour.clientSecret) {
      return { status: 401, body: { data: null, errors: [envelopeItem(401, 'Failed to generate OAuth token')] } };
    }
    const accessToken = `local-oauth.${randomUUID()}`;
    tokenExpiries.set(accessToken, clock() + behaviour.tokenTtlSeconds * 1000);
    return { status: 200, body: { data: { accessToken, ttlSeconds: behaviour.tokenTtlSeconds }, errors: null } };
  };

  // Order matters where patterns overlap: /v2/customers/lookup before /v2/customers/{id}.
  const routes: Route[] = [
    { method: 'POST', pattern: /^\/v3\/oauth\/token\/generate$/, handle: generateToken },
    { method: 'POST', pattern: /^\/v2\/customers$/, handle: authenticated(addCustomer) },
    { method: 'GET', pattern: /^\/v2\/customers\/lookup$/, handle: authenticated(lookupCustomer) },
    {
      method: 'POST',
      pattern: /^\/v2\/integrations\/customer\/upsert\/bulk$/,
      handle: authenticated(bulkUpsert, bulkCost),
    },
    {
      method: 'POST',
      pattern: /^\/v2\/customers\/([^/]+)\/subscriptions$/,
      handle: authenticated(updateSubscriptions),
    },
    { method: 'GET', pattern: /^\/v2\/customers\/([^/]+)\/subscriptions$/, handle: authenticated(readSubscriptions) },
    { method: 'GET', pattern: /^\/v2\/customers\/([^/]+)$/, handle: authenticated(readCustomer) },
    {
      method: 'POST',
      pattern: /^\/v2\/customers\/([^/]+)\/changeIdentifier$/,
      handle: authenticated(changeIdentifier),
    },
    { method: 'POST', pattern: /^\/v2\/requests$/, handle: authenticated(addMergeRequest) },
    { method: 'GET', pattern: /^\/v2\/requests\/([^/]+)$/, handle: authenticated(readMergeRequest) },
    { method: 'PUT', pattern: /^\/v2\/requests$/, handle: authenticated(updateMergeRequest) },
    // Its own Basic credentials and rate bucket: not the REST API's (see behavioural-events-ingest.ts).
    {
      method: 'POST',
      pattern: /^\/webhooks\/([^/]+)$/,
      handle: ({ headers, body }, [integrationId]) =>
        behaviouralEvents.post(decodeURIComponent(integrationId ?? ''), headers.authorization, body, {
          rateLimitPerMinute: settings.current.behaviouralEventsRateLimitPerMinute,
          isCustomer: (id) => customers.has(id),
        }),
    },
  ];

  const state = (): CapillaryState => ({
    customers: [...customers.values()].map(snapshotOf),
    mergeRequests: [...mergeRequests.values()].map((r) => ({ ...r })),
    behaviouralEvents: behaviouralEvents.state(),
    loyalty: loyalty.members(),
  });

  const addMember = (
    identifiers: Record<string, string>,
    names: { firstName?: string; lastName?: string } = {},
  ): number => {
    const profile = parseProfile({
      source: 'INSTORE',
      ...names,
      identifiers: Object.entries(identifiers).map(([type, value]) => ({ type, value })),
    });
    rejectDuplicates([profile]);
    const customer = createCustomer({ loyaltyInfo: { loyaltyType: 'loyalty' } });
    customer.profiles.push(profile);
    return customer.id;
  };

  /** Member Care's merge: the victim's profiles, subscriptions and history move to the survivor; then notified. */
  const mergeCustomers = (survivorId: number, victimId: number): void => {
    const survivor = customers.get(survivorId);
    const victim = customers.get(victimId);
    if (survivor === undefined || victim === undefined || survivorId === victimId)
      throw new InvalidAdminRequestError('survivor and victim must be two existing customers');
    moveInto(survivor, victim);
    goneCustomers.set(victimId, { mergedInto: survivorId });
    for (const [id, gone] of goneCustomers)
      if ('mergedInto' in gone && gone.mergedInto === victimId) goneCustomers.set(id, { mergedInto: survivorId });
    notifier.merged(survivorId, victimId);
  };

  /** A PII deletion request approved and carried out at once (CONF_PII_DATA_DELETE_AFTER_DAYS = 0); then notified. */
  const deleteCustomer = (customerId: number): void => {
    if (!customers.delete(customerId)) throw new InvalidAdminRequestError(`no customer ${customerId}`);
    goneCustomers.set(customerId, { deleted: true });
    notifier.deleted(customerId, nextDeletionRequestId++);
  };

  const positiveId = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      throw new InvalidAdminRequestError(`${field} must be a customer id`);
    return value;
  };

  /** POST /__admin/members `{ "mobile": "668…" }` → `{ customerId }`; POST /__admin/merge-requests/approve (or /reject) `{ id }`. */
  const adminRoutes = {
    /** `{ survivor, victim }`: Member Care merges two customers; the notification goes to the configured URL */
    'POST /__admin/merge': (body: unknown) => {
      if (!isRecord(body)) throw new InvalidAdminRequestError('body must be { survivor, victim }');
      mergeCustomers(positiveId(body.survivor, 'survivor'), positiveId(body.victim, 'victim'));
      return { merged: true, notified: notifier.target !== undefined };
    },
    /** `{ customerId }`: a PII deletion; the notification goes to the configured URL */
    'POST /__admin/delete': (body: unknown) => {
      if (!isRecord(body)) throw new InvalidAdminRequestError('body must be { customerId }');
      deleteCustomer(positiveId(body.customerId, 'customerId'));
      return { deleted: true, notified: notifier.target !== undefined };
    },
    /** `{ url, authorization, withEventId? }` (or `{}` to stop): where Capillary's event notifications go */
    'POST /__admin/notifications': (body: unknown) => {
      if (!isRecord(body)) throw new InvalidAdminRequestError('body must be { url, authorization, withEventId? }');
      if (body.url === undefined) {
        notifier.configure(undefined);
        return { notifying: false };
      }
      if (typeof body.url !== 'string' || typeof body.authorization !== 'string')
        throw new InvalidAdminRequestError('url and authorization must be strings');
      const withEventId = typeof body.withEventId === 'boolean' ? body.withEventId : undefined;
      notifier.configure({ url: body.url, authorization: body.authorization, withEventId });
      return { notifying: true };
    },
    'POST /__admin/members': (body: unknown) => {
      if (!isRecord(body) || Object.values(body).some((value) => typeof value !== 'string'))
        throw new InvalidAdminRequestError('body must map identifier types to strings');
      try {
        return { customerId: addMember(body as Record<string, string>) };
      } catch (error) {
        if (error instanceof CapillaryRequestError) throw new InvalidAdminRequestError(error.message);
        throw error;
      }
    },
    'POST /__admin/merge-requests/approve': (body: unknown) => {
      if (!isRecord(body) || typeof body.id !== 'number') throw new InvalidAdminRequestError('body needs a numeric id');
      return { ...approveMergeRequest(body.id), notified: notifier.target !== undefined };
    },
    'POST /__admin/merge-requests/reject': (body: unknown) => {
      if (!isRecord(body) || typeof body.id !== 'number') throw new InvalidAdminRequestError('body needs a numeric id');
      return { ...rejectMergeRequest(body.id), notified: notifier.target !== undefined };
    },
  };

  const rejectInBulk = (rejection: BulkRejection) => {
    for (const userId of rejection.userIds) {
      if (rejection.times > 0) bulkRejections.set(userId, { code: rejection.code, times: rejection.times });
      else bulkRejections.delete(userId);
    }
    return { pending: Object.fromEntries(bulkRejections) };
  };

  const server = await startStandInServer({
    port: options.port ?? 0,
    requestIdHeader: 'X-Cap-Requestid',
    settings,
    clock,
    errorBody: errorEnvelope,
    routes,
    snapshot: state,
    resetState: () => {
      // Ids are never reused, even across resets: a record kept elsewhere (the bridge's user table) that still
      // names a forgotten customer must not land on someone registered since.
      customers.clear();
      mergedAway.clear();
      acceptedCallTimes = [];
      overLimit = 0;
      bulkRejections.clear();
      firstRecordRejections = { bulkRecordRejections: 0, code: 8013 };
      mergeRequests.clear();
      approvesWhenFiled = undefined;
      goneCustomers.clear();
      nextRequestId = FIRST_REQUEST_ID;
      oneOffRefusals = [];
      behaviouralEvents.reset();
      loyalty.reset();
    },
    adminRoutes: {
      ...adminRoutes,
      'POST /__admin/bulk-rejections': (body: unknown) => rejectInBulk(parseRejection(body)),
      ...loyalty.adminRoutes,
      /** `{ "times": N, "message"?: "…" }`: the next N well-formed behavioural events are refused with 400 */
      'POST /__admin/behavioural-events/refusals': (body: unknown) => behaviouralEvents.refuse(parseRefusal(body)),
    },
  });

  return {
    ...server,
    state,
    customersWithIdentifier: (type, value) => customersWithIdentifier(state(), type, value),
    overLimitCount: () => overLimit,
    rejectInBulk,
    rejectFirstBulkRecords: (rejection) => void (firstRecordRejections = { ...rejection }),
    addMember,
    approveMergeRequest,
    rejectMergeRequest: (id) => rejectMergeRequest(id),
    approveMergesWhenFiled: (approves) => void (approvesWhenFiled = approves),
    refuseFoldedForm: (refusal) => {
      if (refusal.answer === 'warning' && refusal.form !== 'subscriptionInfo')
        throw new Error('only subscriptionInfo is refused with a warning');
      oneOffRefusals.push({ ...refusal });
    },
    behaviouralEventsUrl: `${server.url}${behaviouralEventsPath(behaviouralEvents.integrationId)}`,
    refuseBehaviouralEvents: (refusal) => void behaviouralEvents.refuse(parseRefusal(refusal)),
    loyalty,
    mergeCustomers,
    deleteCustomer,
    sendNotificationsTo: (target) => notifier.configure(target),
    notifications: () => notifier.deliveries(),
    notificationsSettled: () => notifier.idle(),
  };
}
