import { apiErrorOf, errorCodes } from './envelope';
import { CUSTOMER_DELETED_CODE } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** A customer's profile as `GET /v2/customers/{id}` answers it (docs/capillary.md#lookup), read defensively. */
export type ProfileView = { source?: string; accountId?: string; identifiers?: { type?: string; value?: string }[] };
export type Identifier = { type: string; value: string };

/**
 * Codes of a customer Capillary does not have (docs/capillary.md#codes and docs/capillary.md#change-identifier): not
 * found, merged away, or deleted on a PII request (8109).
 */
export const CUSTOMER_NOT_FOUND = new Set([8015, 8065, 8009, 8069, CUSTOMER_DELETED_CODE]);

/** The customer's profiles (`GET /v2/customers/{id}`, docs/capillary.md#lookup), undefined when there is no such customer. */
export async function readProfiles(
  http: CapillaryHttpClient,
  customerId: number,
  call: CallOptions,
): Promise<ProfileView[] | undefined> {
  const response = await http.request(
    'link-read-member',
    'GET',
    `/v2/customers/${customerId}?source=ALL`,
    undefined,
    call,
  );
  if (Array.isArray(response.body.profiles)) return response.body.profiles as ProfileView[];
  if (errorCodes(response.body).some((code) => CUSTOMER_NOT_FOUND.has(code))) return undefined;
  throw apiErrorOf('link-read-member', response);
}

/** The profile of this LINE account that carries this LINE user, if the customer has one. */
export function lineProfileOf(
  profiles: ProfileView[],
  lineAccountId: string,
  lineUserId: string,
): ProfileView | undefined {
  return profiles.find(
    (profile) =>
      profile.source === 'LINE' &&
      profile.accountId === lineAccountId &&
      (profile.identifiers ?? []).some((identifier) => identifier.type === 'line' && identifier.value === lineUserId),
  );
}

/** The member's INSTORE identifier a LINE profile can share so that Capillary merges the two: mobile, else email, else externalId. */
export function sharedIdentifierOf(profiles: ProfileView[]): Identifier | undefined {
  const identifiers = instoreIdentifiersOf(profiles);
  for (const type of ['mobile', 'email', 'externalId']) {
    const found = identifiers.find((identifier) => identifier.type === type && typeof identifier.value === 'string');
    if (found) return { type, value: found.value as string };
  }
  return undefined;
}

/** Whether an INSTORE profile of the customer carries this identifier (a merge may have brought it from another customer). */
export const carriesInstoreIdentifier = (profiles: ProfileView[], { type, value }: Identifier): boolean =>
  instoreIdentifiersOf(profiles).some((identifier) => identifier.type === type && identifier.value === value);

const instoreIdentifiersOf = (profiles: ProfileView[]) =>
  profiles.filter((profile) => profile.source === 'INSTORE').flatMap((profile) => profile.identifiers ?? []);
