import { CapillaryApiError } from '../../capillary/errors';
import type { AttachResult } from '../../capillary/member-linker';
import type { ReattachRequest } from '../../domain/identity-rules';
import type { LinkContext } from '../link/link-context';

export type ReattachOutcome = {
  result: 'reattach';
  action: 'reattached' | 'not-named' | 'reattach-failed';
  customerId?: number;
  detail?: string;
};

/**
 * The drift check's repair (docs/operations.md#drift-check) of a user whose customer lost this channel's LINE
 * profile (orphaned-follower) or whose profile sits on another customer (linked-elsewhere): the record is the bridge's
 * truth, so the profile moves to the customer it names, with the record's subscription; the holder is opted out and
 * loses it first (Capillary keeps one customer per LINE user and account). A record that no longer names the customer
 * the check saw (a link, a merge since) is left alone. Not recorded as the lane's last event: it makes no link stale.
 * The drift check reports what it queued; the worker's log line says what each repair did.
 */
export async function reattachLineProfile(link: LinkContext, request: ReattachRequest): Promise<ReattachOutcome> {
  const { claimed, channel, call, log } = link;
  const { key, state } = claimed;
  const { customerId, holderId } = request;
  if (state.customerId !== customerId || state.forgottenAt !== undefined) {
    await claimed.complete({ recordEvent: false });
    log.info('Reattach repair for a record that names another customer now: nothing to do', { customerId });
    return { result: 'reattach', action: 'not-named', customerId };
  }
  const { members, customers } = channel;
  const held = holderId !== undefined && (await members.holdsLineId(holderId, key.userId, call));
  const detached = held ? await detachHolder(link, holderId) : undefined;
  // A member takes the profile as a link gives it; the user's own customer gets its LINE id back.
  const attached =
    state.linkedCustomerId === customerId
      ? await members.attach(customerId, key.userId, { kind: 'customerId', value: customerId }, call)
      : await putLineIdBack(link, customerId);
  if (!attached.attached) {
    if (detached !== undefined) await members.restore(holderId as number, key.userId, detached, call);
    await claimed.complete({ recordEvent: false });
    log.warn('Reattach repair failed; the LINE profile stays where it was', { customerId, reason: attached.reason });
    return { result: 'reattach', action: 'reattach-failed', customerId, detail: attached.reason };
  }
  if (state.subscription !== undefined) await customers.setSubscription(customerId, state.subscription, call);
  await claimed.complete({ recordEvent: false });
  log.info('LINE profile put back on the record’s customer', { customerId, holderId: held ? holderId : undefined });
  return { result: 'reattach', action: 'reattached', customerId };
}

/** The user's own customer gets the LINE id back; another customer holding it (one the check did not see) refuses. */
async function putLineIdBack({ channel, claimed, call }: LinkContext, customerId: number): Promise<AttachResult> {
  try {
    await channel.members.restore(customerId, claimed.key.userId, [{ type: 'line', value: claimed.key.userId }], call);
    return { attached: true };
  } catch (error) {
    // A refusal (the id taken, say) is reported; an unavailable Capillary is retried.
    if (!(error instanceof CapillaryApiError) || error.status >= 500) throw error;
    return { attached: false, reason: error.message };
  }
}

/** The holder opted out on this channel, then the LINE profile taken off it: what a failed attach puts back. */
async function detachHolder({ channel, claimed, call }: LinkContext, holderId: number) {
  await channel.customers.setSubscription(holderId, 'OPTOUT', call);
  return channel.members.detach(holderId, claimed.key.userId, call);
}
