import { CustomerGoneError } from '../../capillary/errors';
import { countForChannel } from '../../observability/telemetry';
import type { LinkContext, LinkOutcome } from './link-context';

/**
 * CAPILLARY_LINK_ANONYMOUS=merge-request: asks Capillary to merge the anonymous customer into the member,
 * at most once per link. Pending (filed, already pending, or the answer lost) ends the event as
 * `merge-pending`: the LINE profile moves with the merge, which Capillary's notification (or the drift
 * check) settles. Merged already, or approved at once: the link goes on. A victim Capillary no longer
 * has: the caller detaches whoever holds the LINE id instead.
 */
export async function fileMerge(
  { claimed, channel, log, call, now }: LinkContext,
  victimId: number,
  memberId: number,
  /** the siblings' claims go first: this record is written last, or a crash after it would leave them held */
  releaseSiblings: () => Promise<void>,
): Promise<LinkOutcome | { victimGone: boolean }> {
  let request;
  try {
    request = await channel.members.requestMerge(victimId, memberId, call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    return { victimGone: true };
  }
  log.info('Capillary merge request: anonymous customer into the member', {
    outcome: request.outcome,
    ...(request.outcome === 'filed' ? { requestId: request.requestId, status: request.status } : {}),
  });
  if (request.outcome === 'merged' || (request.outcome === 'filed' && request.status === 'APPROVED'))
    return { victimGone: false };
  const detail = request.outcome === 'filed' ? `request ${request.requestId}` : request.detail;
  await releaseSiblings();
  await claimed.complete({ linkedCustomerId: memberId, link: { status: 'merge-pending', detail, at: now } });
  countForChannel('LinkMergePending', channel.id);
  return { result: 'link', action: 'merge-pending', customerId: memberId, detail };
}
