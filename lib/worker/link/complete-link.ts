import {
  anonymousCustomerAction,
  nonceVerdict,
  subscriptionOnLink,
  type LinkRejection,
  type NonceRecord,
} from '../../domain/link-rules';
import { countForChannel, countLinkFailed, countLinkRejected } from '../../observability/telemetry';
import { NonceChangedError } from '../errors';
import { showMemberMenu } from '../loyalty/member-menu';
import type { LinkContext, LinkOutcome } from './link-context';

/**
 * A nonce to resolve (LINE's accountLink, or the link API's verified ID token): the member it names gets
 * this channel's LINE profile with the user's current state, and the anonymous customer made at follow
 * time is handled as configured. Refused nonces and members Capillary cannot link end the event too.
 */
export async function completeLink(
  link: LinkContext,
  { nonce, via }: { nonce: string | undefined; via: 'accountLink' | 'id-token' },
): Promise<LinkOutcome> {
  const { claimed, channel, nonces, settings, log, call, now } = link;
  const { members } = channel;
  const { key, state } = claimed;
  if (nonce === undefined) return reject(link, 'no-nonce');
  const consumed = await consumeNonce(link, nonce);
  if (!('customer' in consumed)) return reject(link, consumed.rejection);
  const { customer } = consumed;

  const memberId = await members.findMember(customer, call);
  if (memberId === undefined) return fail(link, 'member-not-found');
  const subscription = subscriptionOnLink(state.subscription, via);
  const previous = state.customerId;
  const wasMember = previous !== undefined && previous === state.linkedCustomerId;
  // A previous member is always detached: two members are never merged or both kept.
  const handling = anonymousCustomerAction(previous, memberId, wasMember ? 'detach' : settings.anonymousCustomer);
  if (handling === 'detach') {
    await channel.customers.setSubscription(previous as number, 'OPTOUT', call);
    await members.detach(previous as number, key.userId, call);
  }
  if (handling === 'merge-request') {
    const request = await members.requestMerge(previous as number, memberId, call);
    log.info('Capillary merge request filed: anonymous customer into the member', {
      requestId: request.requestId,
      status: request.status,
    });
    if (request.status !== 'APPROVED') {
      // The LINE profile moves with the merge once Capillary approves it; until then it stays where it is.
      const detail = `request ${request.requestId}`;
      await claimed.complete({ linkedCustomerId: memberId, link: { status: 'merge-pending', detail, at: now } });
      countForChannel('LinkMergePending', channel.id);
      return { result: 'link', action: 'merge-pending', customerId: memberId, detail };
    }
  }
  const attached = await members.attach(memberId, key.userId, customer, call);
  if (!attached.attached) return fail(link, attached.reason);
  await channel.customers.setSubscription(memberId, subscription, call);
  await nonces.saveMemberLink(key.destination, [customer, { kind: 'customerId', value: memberId }], key.userId);
  await claimed.complete({
    customerId: memberId,
    linkedCustomerId: memberId,
    subscription,
    link: { status: 'linked', at: now },
  });
  await showMemberMenu(channel, key.userId, memberId, link);
  countForChannel('LinkApplied', channel.id);
  log.info('LINE profile attached to the member', {
    customerId: memberId,
    previousCustomerId: previous,
    handling,
    subscription,
    via: customer.kind,
  });
  return { result: 'link', action: 'linked', customerId: memberId };
}

/** Single use: the nonce's record as this event consumed it, or why the link rules refuse it. */
async function consumeNonce(
  { claimed, nonces, now }: LinkContext,
  nonce: string,
): Promise<NonceRecord | { rejection: LinkRejection }> {
  const { key, event } = claimed;
  const consumed = await nonces.consume(nonce, event.webhookEventId, now);
  const verdict = nonceVerdict(
    consumed.record,
    { webhookEventId: event.webhookEventId, userId: key.userId, destination: key.destination },
    now,
  );
  // The store refused what the rule accepts only if the record changed in between: retry and look again.
  if (!consumed.consumed && (verdict === 'accept' || verdict === 'impersonation'))
    throw new NonceChangedError(event.webhookEventId);
  return verdict === 'accept' ? (consumed.record as NonceRecord) : { rejection: verdict };
}

async function reject({ claimed, channel, log }: LinkContext, reason: LinkRejection): Promise<LinkOutcome> {
  // Not recorded as the lane's last event: a refused nonce must not make this user's own, older link stale.
  await claimed.complete({ recordEvent: false });
  countLinkRejected(channel.id, reason);
  // Another user's nonce: someone tried to link their LINE account to a member that is not theirs.
  if (reason === 'impersonation') countForChannel('LinkImpersonation', channel.id);
  log.warn('Link rejected; acknowledged, not retried', { reason });
  return { result: 'rejected', reason };
}

/** Recorded in the user's link status with the reason; a new link attempt starts over. */
async function fail({ claimed, channel, log, now }: LinkContext, reason: string): Promise<LinkOutcome> {
  await claimed.complete({ link: { status: 'failed', detail: reason, at: now } });
  countLinkFailed(
    channel.id,
    reason.startsWith('capillary-merged-into-customer-') ? 'capillary-merged-elsewhere' : reason,
  );
  log.warn('Link failed; recorded in the user record', { reason });
  return { result: 'link', action: 'link-failed', detail: reason };
}
