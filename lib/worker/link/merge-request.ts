import { CustomerGoneError } from '../../capillary/errors';
import { pendingMergeDetail, pendingMergeRequestOf } from '../../domain/link-rules';
import type { LinkState } from '../../domain/sync-rules';
import { countForChannel } from '../../observability/telemetry';
import type { LinkContext, LinkOutcome } from './link-context';
import type { SiblingRecord } from './sibling-profiles';

/**
 * CAPILLARY_LINK_ANONYMOUS=merge-request: asks Capillary to merge the anonymous customer into the member,
 * at most once per link. Pending (filed, already pending, or the answer lost) ends the event as `merge-pending`: the
 * LINE profiles move with the merge, which Capillary's notification (or the next event that finds the anonymous
 * customer gone) settles. "Already pending" (9018) is taken as this link's own request (an earlier attempt of it, or
 * the record's pending link to this member): the bridge leaves no other request of its own pending for the victim
 * (domain/link-rules anonymousCustomerAction; ./unlink and a link to another member withdraw it first). Merged
 * already, or approved at once: the link goes on (`merged`). A victim Capillary no longer has: the caller detaches whoever holds the LINE id instead (`detach`).
 */
export async function fileMerge(
  { claimed, channel, log, call, now }: LinkContext,
  victimId: number,
  memberId: number,
  siblings: readonly SiblingRecord[],
): Promise<LinkOutcome | 'merged' | 'detach'> {
  let request;
  try {
    request = await channel.members.requestMerge(victimId, memberId, call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    return 'detach';
  }
  log.info('Capillary merge request: anonymous customer into the member', {
    outcome: request.outcome,
    ...(request.outcome === 'filed' ? { requestId: request.requestId, status: request.status } : {}),
  });
  if (request.outcome === 'merged' || (request.outcome === 'filed' && request.status === 'APPROVED')) return 'merged';
  // "Already pending" for the record's own pending request into this member: the request it names stays known.
  const own = claimed.state.linkedCustomerId === memberId ? pendingMergeRequestOf(claimed.state.link) : undefined;
  const detail =
    request.outcome === 'filed'
      ? pendingMergeDetail(request.requestId)
      : own === undefined
        ? request.detail
        : pendingMergeDetail(own);
  const link: LinkState = { status: 'merge-pending', detail, at: now };
  // The siblings first: this record is written last, or a crash after it would leave their claims held.
  await recordSiblingsPending(siblings, memberId, link);
  await claimed.complete({ customerId: victimId, linkedCustomerId: memberId, link });
  countForChannel('LinkMergePending', channel.id);
  return { result: 'link', action: 'merge-pending', customerId: memberId, detail };
}

/**
 * The provider's other channels wait with this one: linked to the member, pending, each on the customer carrying its
 * profile (Capillary keeps one LINE user id on one customer: the anonymous one, which the merge moves whole). The
 * merge's notification then settles each record as it names that customer; one on no customer has nothing to move.
 */
async function recordSiblingsPending(records: readonly SiblingRecord[], memberId: number, link: LinkState) {
  for (const { claimed, customerId } of records)
    await claimed.complete({ ...(customerId === undefined ? {} : { customerId }), linkedCustomerId: memberId, link });
}

/**
 * The user moves on before Capillary's review (an unlink, or a link to another member): the merge request the record's
 * pending link filed is withdrawn, so that no approval later merges the anonymous customer into a member the user
 * left. One whose id is unknown (its answer was lost) cannot be named; the profiles leave the victim all the same.
 */
export async function withdrawPendingMerge({ claimed, channel, log, call }: LinkContext): Promise<void> {
  const requestId = pendingMergeRequestOf(claimed.state.link);
  if (requestId === undefined) return;
  const status = await channel.members.withdrawMerge(requestId, call);
  if (status !== 'PENDING') {
    countForChannel('LinkMergeWithdrawn', channel.id);
    log.info('Pending merge request withdrawn (or reviewed already)', { requestId, status });
    return;
  }
  countForChannel('LinkMergeWithdrawRefused', channel.id);
  log.warn('Capillary kept the merge request pending: reject it in Member Care', { requestId });
}
