import { CustomerGoneError } from '../../capillary/errors';
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
 * (domain/link-rules anonymousCustomerAction, ./unlink). Merged already, or approved at once: the link goes on
 * (`merged`). A victim Capillary no longer has: the caller detaches whoever holds the LINE id instead (`detach`).
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
  const detail = request.outcome === 'filed' ? `request ${request.requestId}` : request.detail;
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
