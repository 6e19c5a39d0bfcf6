/**
 * Reads a customer's LINE subscription back (`GET /v2/customers/{id}/subscriptions`,
 * docs/capillary.md#subscriptions) for the drift check: OPTIN when both priorities are opted in, OPTOUT
 * when either is opted out, `none` when Capillary holds no LINE subscription for the account.
 */
import { errorCodes } from '../../lib/capillary/envelope';
import { CapillaryApiError } from '../../lib/capillary/errors';
import type { CallOptions, CapillaryHttpClient } from '../../lib/capillary/http-client';
import type { SubscriptionState } from '../../lib/domain/sync-rules';
import { isRecord } from '../../lib/is-record';

export type CapillarySubscription = SubscriptionState | 'none';

export async function readLineSubscription(
  http: CapillaryHttpClient,
  lineAccountId: string,
  customerId: number,
  call: CallOptions,
): Promise<CapillarySubscription> {
  const response = await http.request(
    'read-subscription',
    'GET',
    `/v2/customers/${customerId}/subscriptions`,
    undefined,
    call,
  );
  const codes = errorCodes(response.body);
  if (response.status >= 400 || codes.length > 0) {
    throw new CapillaryApiError('read-subscription', response.status, codes, response.requestId, '');
  }
  const entries = Array.isArray(response.body.subscriptions) ? response.body.subscriptions : [];
  const types = new Map<string, string>();
  for (const entry of entries) {
    if (!isRecord(entry) || String(entry.channel).toUpperCase() !== 'LINE' || String(entry.accountId) !== lineAccountId)
      continue;
    types.set(String(entry.priority), String(entry.type));
  }
  if ([...types.values()].includes('OPTOUT')) return 'OPTOUT';
  return types.get('BULK') === 'OPTIN' && types.get('TRANS') === 'OPTIN' ? 'OPTIN' : 'none';
}
