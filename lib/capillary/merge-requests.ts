import { apiErrorOf, errorCodes, goneCodesOf } from './envelope';
import { CapillaryUnavailableError, CustomerGoneError } from './errors';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** docs/capillary.md#merge-requests: a merge already pending for the victim; already merged. */
const ALREADY_PENDING = 9018;
const ALREADY_MERGED = new Set([9023, 9027]);

/** What filing "merge victim into survivor" came to: filed (with its status), pending already (9018), merged already. */
export type MergeRequestOutcome =
  | { outcome: 'filed'; requestId: number; status: string }
  | { outcome: 'pending'; detail: 'already-pending' }
  | { outcome: 'merged' };

/**
 * `POST /v2/requests` once, then its status; a gone victim throws CustomerGoneError. A lost answer (timeout, 5xx,
 * network) throws CapillaryUnavailableError: the event is retried and files again, and Capillary answers 9018 ("Request
 * for Merge already exists for the victim in pending or processing state") if the lost one was filed, or 9023/9027 if
 * it was approved since, so no second request is made and no link waits for a request Capillary never got.
 */
export async function fileMergeRequest(
  http: CapillaryHttpClient,
  { victimId, survivorId, autoApprove }: { victimId: number; survivorId: number; autoApprove: boolean },
  call: CallOptions,
): Promise<MergeRequestOutcome> {
  const query = autoApprove ? '?client_auto_approve=true' : '';
  // The body's survivor/victim field names are Unconfirmed (docs/capillary.md#merge-requests).
  const response = await http.request(
    'link-merge-request',
    'POST',
    `/v2/requests${query}`,
    { type: 'CHANGE_IDENTIFIER', baseType: 'MERGE', userId: victimId, survivorUserId: survivorId },
    { ...call, singleAttempt: true },
  );
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
  if (response.status >= 500) throw new CapillaryUnavailableError('link-merge-request', 1, `HTTP ${response.status}`);
  throw apiErrorOf('link-merge-request', response);
}

/** What withdrawing came to: the request's status after it (REJECTED: withdrawn, or rejected already). */
export type MergeRequestStatus = 'PENDING' | 'APPROVED' | 'REJECTED';

/**
 * Withdraws a merge request a link filed: `PUT /v2/requests` with status REJECTED ("Update Request" approves or
 * rejects; one request per call). Setting a status again is harmless, so it is retried like a read. A refusal reads
 * the request: approved or rejected in between, or still pending (Capillary refused to withdraw it); the caller goes
 * on either way (it takes the LINE profile off the request's victim: a merge approved later carries no LINE id).
 */
export async function withdrawMergeRequest(
  http: CapillaryHttpClient,
  requestId: string,
  call: CallOptions,
): Promise<MergeRequestStatus> {
  const response = await http.request(
    'link-merge-withdraw',
    'PUT',
    '/v2/requests',
    [{ type: 'CHANGE_IDENTIFIER', baseType: 'MERGE', id: requestId, status: 'REJECTED', comments: WITHDRAWN }],
    call,
  );
  if (response.status >= 500) throw new CapillaryUnavailableError('link-merge-withdraw', 1, `HTTP ${response.status}`);
  const failed = Number(response.body.failureCount ?? 0) > 0 || errorCodes(response.body).length > 0;
  if (response.status < 300 && !failed) return 'REJECTED';
  return readMergeRequestStatus(http, requestId, call);
}

/** `GET /v2/requests/{id}`: the request's status. */
export async function readMergeRequestStatus(
  http: CapillaryHttpClient,
  requestId: string,
  call: CallOptions,
): Promise<MergeRequestStatus> {
  const read = await http.request('link-merge-status', 'GET', `/v2/requests/${requestId}`, undefined, call);
  const status = read.body.status;
  if (status === 'PENDING' || status === 'APPROVED' || status === 'REJECTED') return status;
  if (read.status >= 500) throw new CapillaryUnavailableError('link-merge-status', 1, `HTTP ${read.status}`);
  throw apiErrorOf('link-merge-status', read);
}

const WITHDRAWN = 'Withdrawn by line-capillary-bridge: the LINE user unlinked, or linked another member, first';
