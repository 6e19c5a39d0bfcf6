/**
 * What Capillary says about the customer a user record names, for the drift check's identity classes
 * (docs/operations.md#drift-check): gone (merged away, deleted: the codes of docs/capillary.md#codes), present with this
 * channel's LINE profile of the user, or present without it, and then who holds that profile, if anyone.
 */
import { lookupCustomer } from '../../lib/capillary/customer-calls';
import { apiErrorOf, goneCodesOf } from '../../lib/capillary/envelope';
import { LookupUnsupportedError } from '../../lib/capillary/errors';
import type { CallOptions, CapillaryHttpClient } from '../../lib/capillary/http-client';
import { lineProfileOf, type ProfileView } from '../../lib/capillary/member-profiles';

export type CustomerIdentity =
  | { kind: 'gone'; codes: number[] }
  | { kind: 'holds-line-profile' }
  /** `holderId`: the customer that carries the user's LINE profile instead; undefined when none does */
  | { kind: 'lacks-line-profile'; holderId?: number };

export async function readCustomerIdentity(
  http: CapillaryHttpClient,
  lineAccountId: string,
  customerId: number,
  lineUserId: string,
  /** `beforeRead`: waits for a token of the shared budget (one per read) */
  call: CallOptions & { beforeRead: () => Promise<void> },
): Promise<CustomerIdentity> {
  await call.beforeRead();
  const response = await http.request(
    'read-customer',
    'GET',
    `/v2/customers/${customerId}?source=ALL`,
    undefined,
    call,
  );
  const gone = goneCodesOf(response.body);
  if (gone.length > 0) return { kind: 'gone', codes: gone };
  if (!Array.isArray(response.body.profiles)) throw apiErrorOf('read-customer', response);
  if (lineProfileOf(response.body.profiles as ProfileView[], lineAccountId, lineUserId) !== undefined)
    return { kind: 'holds-line-profile' };
  await call.beforeRead();
  try {
    const holderId = await lookupCustomer(
      http,
      lineAccountId,
      { source: 'LINE', identifierName: 'line', identifierValue: lineUserId },
      call,
    );
    return holderId === undefined ? { kind: 'lacks-line-profile' } : { kind: 'lacks-line-profile', holderId };
  } catch (error) {
    // An org that cannot be searched by LINE id: nobody is known to hold it.
    if (error instanceof LookupUnsupportedError) return { kind: 'lacks-line-profile' };
    throw error;
  }
}
