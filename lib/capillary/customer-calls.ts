import type { CapillaryConfig } from '../config/capillary-registration';
import type { SubscriptionState } from '../domain/sync-rules';
import { apiErrorOf, errorCodes, warningCodes } from './envelope';
import { CustomerNotResolvedError, LookupUnsupportedError, type CapillaryApiError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** Codes from docs/capillary.md#codes. */
const ALREADY_EXISTS = 8006;
const MERGED = 8050;
/** Warning on a successful add: a subscription in `subscriptionInfo` could not be set. */
export const SUBSCRIPTION_NOT_SET = 91022;
const NOT_FOUND = new Set([8015, 8065]);
const INVALID_IDENTIFIER_NAME = 8013;

/** The LINE channel's subscription entries (both priorities, docs/capillary.md#subscriptions) for one state. */
export function lineSubscriptions(
  config: Pick<CapillaryConfig, 'orgUnitId'>,
  lineAccountId: string,
  channel: string,
  state: SubscriptionState,
) {
  const { orgUnitId } = config;
  return (['BULK', 'TRANS'] as const).map((priority) => ({
    channel,
    priority,
    type: state,
    accountId: lineAccountId,
    sourceName: 'LINE',
    ...(orgUnitId === undefined ? {} : { orgUnitId }),
  }));
}

/** The LINE user as the communication channel of a LINE profile. */
export const lineCommChannel = (lineUserId: string) => ({
  type: 'line',
  value: lineUserId,
  primary: true,
  verified: true,
  meta: { residence: true },
});

export type Profile = Record<string, unknown>;

/** The INSTORE profile's identifier, also on the LINE profile in instore+line mode. */
export const externalIdOf = (config: Pick<CapillaryConfig, 'externalIdPrefix'>, lineUserId: string): string =>
  `${config.externalIdPrefix}${lineUserId}`;

/** The profiles a new follower gets in this registration mode: one shape, whichever call (single or bulk) registers them. */
export interface RegistrationProfiles {
  /** instore+line: the brand's own profile, found by the shared externalId */
  instore?: Profile;
  line: Profile;
}

/**
 * Capillary's LINE guide: in instore+line mode an unknown user gets an INSTORE profile and a LINE profile on one
 * customer. A follow carries no phone number, so both profiles share an externalId to merge on.
 */
export function registrationProfiles(
  config: Pick<CapillaryConfig, 'registrationMode' | 'externalIdPrefix'>,
  lineAccountId: string,
  lineUserId: string,
  displayName: string | undefined,
): RegistrationProfiles {
  const names = displayName ? { firstName: displayName.slice(0, 100), lastName: '' } : {};
  const line = (identifiers: { type: string; value: string }[]): Profile => ({
    ...names,
    identifiers: [{ type: 'line', value: lineUserId }, ...identifiers],
    commChannels: [lineCommChannel(lineUserId)],
    source: 'LINE',
    accountId: lineAccountId,
  });
  if (config.registrationMode === 'line-only') return { line: line([]) };
  const externalId = { type: 'externalId', value: externalIdOf(config, lineUserId) };
  return {
    instore: { ...names, identifiers: [externalId], source: 'INSTORE', accountId: '' },
    line: line([externalId]),
  };
}

export type AddOutcome =
  /** `optInNotSet`: the add carried the opt-in and Capillary answered it with the 91022 warning */
  | { outcome: 'created'; customerId: number; merged: boolean; subscribed: boolean; optInNotSet: boolean }
  /** 8006: a profile exists already (a retry after a lost response, or registered elsewhere) */
  | { outcome: 'exists'; subscribed: false }
  | { outcome: 'failed'; error: CapillaryApiError };

/** `POST /v2/customers` (docs/capillary.md#add-customer) with these profiles, and the opt-in when given. */
export async function addCustomer(
  http: CapillaryHttpClient,
  call: CallOptions,
  operation: string,
  profiles: Profile[],
  subscriptionInfo?: unknown,
): Promise<AddOutcome> {
  const response = await http.request(
    operation,
    'POST',
    '/v2/customers',
    {
      loyaltyInfo: { loyaltyType: 'non_loyalty' },
      profiles: profiles.map((profile) => ({ fields: {}, ...profile })),
      extendedFields: {},
      ...(subscriptionInfo ? { subscriptionInfo } : {}),
    },
    call,
  );
  // createdId decides success: the 8050 merge answer has been seen filed under HTTP 500.
  const createdId = response.body.createdId;
  if (typeof createdId === 'number') {
    const warnings = warningCodes(response.body);
    const optInNotSet = subscriptionInfo !== undefined && warnings.includes(SUBSCRIPTION_NOT_SET);
    return {
      outcome: 'created',
      customerId: createdId,
      merged: warnings.includes(MERGED),
      subscribed: subscriptionInfo !== undefined && !optInNotSet,
      optInNotSet,
    };
  }
  if (errorCodes(response.body).includes(ALREADY_EXISTS)) return { outcome: 'exists', subscribed: false };
  return { outcome: 'failed', error: apiErrorOf(operation, response) };
}

export interface CustomerQuery {
  source: string;
  identifierName: string;
  identifierValue: string;
}

/**
 * `GET /v2/customers/lookup` (docs/capillary.md#lookup): the customer id, undefined when there is none.
 * A LINE-source lookup names the channel's account. Throws LookupUnsupportedError when the org rejects the identifier.
 */
export async function lookupCustomer(
  http: CapillaryHttpClient,
  lineAccountId: string,
  { source, identifierName, identifierValue }: CustomerQuery,
  call: CallOptions,
): Promise<number | undefined> {
  const query = new URLSearchParams({ source, identifierName, identifierValue });
  if (source !== 'INSTORE') query.set('accountId', lineAccountId);
  const response = await http.request('lookup-customer', 'GET', `/v2/customers/lookup?${query}`, undefined, call);
  if (typeof response.body.entity === 'number') return response.body.entity;
  const codes = errorCodes(response.body);
  if (codes.some((code) => NOT_FOUND.has(code))) return undefined;
  // identifierName=line is undocumented (docs/capillary.md#lookup); an org that rejects it cannot be searched by LINE id.
  if (codes.includes(INVALID_IDENTIFIER_NAME)) throw new LookupUnsupportedError(identifierName, response.requestId);
  throw apiErrorOf('lookup-customer', response);
}

/** The customer a registration found already there (8006): Capillary has one, so not finding it is an error. */
export async function requireCustomer(
  http: CapillaryHttpClient,
  lineAccountId: string,
  query: CustomerQuery,
  call: CallOptions,
): Promise<number> {
  const customerId = await lookupCustomer(http, lineAccountId, query, call);
  if (customerId === undefined) throw new CustomerNotResolvedError(`${query.source}/${query.identifierName}`);
  return customerId;
}
