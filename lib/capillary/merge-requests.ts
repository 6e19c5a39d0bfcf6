import { apiErrorOf, errorCodes, goneCodesOf } from './envelope';
import { CapillaryUnavailableError, CustomerGoneError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** docs/capillary.md#merge-requests: a merge already pending for the victim; already merged. */
const ALREADY_PENDING = 9018;
const ALREADY_MERGED = new Set([9023, 9027]);

/**
 * What filing "merge victim into survivor" came to. `unconfirmed`: the answer was lost (timeout, 5xx,
 * network), so Capillary may or may not have filed it; filing again could make a second request, so the
 * link waits for Capillary's notification (or the drift check) instead.
 */
export type MergeRequestOutcome =
  | { outcome: 'filed'; requestId: number; status: string }
  | { outcome: 'pending'; detail: 'request-unconfirmed' | 'already-pending' }
  | { outcome: 'merged' };

/** `POST /v2/requests` once (never re-sent on its own), then its status; a gone victim throws CustomerGoneError. */
export async function fileMergeRequest(
  http: CapillaryHttpClient,
  { victimId, survivorId, autoApprove }: { victimId: number; survivorId: number; autoApprove: boolean },
  call: CallOptions,
): Promise<MergeRequestOutcome> {
  const query = autoApprove ? '?client_auto_approve=true' : '';
  let response;
  try {
    // The body's survivor/victim field names are Unconfirmed (docs/capillary.md#merge-requests).
    response = await http.request(
      'link-merge-request',
      'POST',
      `/v2/requests${query}`,
      { type: 'CHANGE_IDENTIFIER', baseType: 'MERGE', userId: victimId, survivorUserId: survivorId },
      { ...call, singleAttempt: true },
    );
  } catch (error) {
    // Nothing was sent when no attempt started (no time, no rate budget): the event may simply be retried.
    if (error instanceof CapillaryUnavailableError && error.attempts > 0)
      return { outcome: 'pending', detail: 'request-unconfirmed' };
    throw error;
  }
  const requestId = response.body.createdId;
  if (typeof requestId === 'number') {
    const status = await http.request('link-merge-status', 'GET', `/v2/requests/${requestId}`, undefined, call);
    return {
      outcome: 'filed',
      requestId,
      status: typeof status.body.status === 'string' ? status.body.status : 'PENDING',
    };
  }
  const codes = errorCodes(response.body);
  if (codes.includes(ALREADY_PENDING)) return { outcome: 'pending', detail: 'already-pending' };
  if (codes.some((code) => ALREADY_MERGED.has(code))) return { outcome: 'merged' };
  const gone = goneCodesOf(response.body);
  if (gone.length > 0) throw new CustomerGoneError('link-merge-request', victimId, gone);
  if (response.status >= 500) return { outcome: 'pending', detail: 'request-unconfirmed' };
  throw apiErrorOf('link-merge-request', response);
}
