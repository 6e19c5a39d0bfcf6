import type { Logger } from '@aws-lambda-powertools/logger';

import { CustomerGoneError } from '../../capillary/errors';
import { DEFAULT_CAPILLARY_ORG_ID } from '../../config/channels';
import {
  identityVerdict,
  mergedIntoDeleted,
  type IdentityAction,
  type IdentityNotice,
  type IdentityVerdict,
} from '../../domain/identity-rules';
import { countForChannel } from '../../observability/telemetry';
import type { DeletionLog, LinkStateStore } from '../../store/ports';
import type { ClaimedEvent } from '../claim-user-record';
import type { LinkChannel } from '../link/link-context';
import { detachPrevious } from '../link/move-profile';

export type IdentityOutcome = { result: 'identity'; action: IdentityAction; customerId?: number };

/**
 * What an identity event works with: the bridge's own state, and Capillary only to take back what the bridge wrote on
 * a customer it put a forgotten user on, or to give a settled link's member the user's subscription (Capillary made the
 * change itself).
 */
export interface IdentityContext {
  claimed: ClaimedEvent;
  notice: IdentityNotice;
  /** PII deletions whose notice came before a merge into the deleted customer */
  deletions: DeletionLog;
  /** the member index, whose entries a forgotten user's record lists */
  nonces: LinkStateStore;
  channel: LinkChannel;
  log: Logger;
  call: { deadlineAt: number };
  now: number;
}

/**
 * A claimed identity event (a merge, a merge request's outcome or a PII deletion in Capillary) → the user's record
 * re-pointed, its pending link settled or failed, or the user forgotten, as domain/identity-rules decides from the
 * record as the claim read it (the index that found the user may be behind). A record that no longer names the
 * customer records the event only.
 */
export async function applyIdentityChange({
  claimed,
  notice,
  deletions,
  nonces,
  channel,
  log,
  call,
  now,
}: IdentityContext): Promise<IdentityOutcome> {
  const { state, key } = claimed;
  const { action, change, takeBackFrom } = await verdictOf(claimed, notice, deletions, now);
  // A follow from before the deletion put the user on another customer: its LINE profile and opt-in go (Capillary keeps
  // the customer and its other profiles: the bridge does not approve PII requests). A crash after it retries it all.
  if (takeBackFrom !== undefined) {
    const detached = await detachPrevious({ channel, userId: key.userId, call, log }, takeBackFrom);
    countForChannel('IdentityTakenBack', channel.id);
    log.info('Deleted person registered again by an older follow: LINE profile taken back', {
      customerId: detached.customerId,
    });
  }
  if (action === 'link-settled')
    await subscribeAsRecorded({ claimed, channel, log, call }, change.customerId ?? state.customerId);
  // The member index entries go before the record forgets which they were; a crash in between retries both.
  if (change.linkRefs === null && state.linkRefs !== undefined && state.linkRefs.length > 0)
    await nonces.removeMemberLinks(state.linkRefs, claimed.key.userId);
  await claimed.complete(change);
  countIdentityChange(action, channel.id);
  const customerId = change.customerId ?? undefined;
  log.info('Capillary identity change applied to the user record', { notice: notice.type, action, customerId });
  return { result: 'identity', action, ...(customerId === undefined ? {} : { customerId }) };
}

/** The rules' verdict; a merge into a survivor deleted since (its deletion's notice found nobody yet) forgets the user. */
async function verdictOf(
  { state, event, key }: ClaimedEvent,
  notice: IdentityNotice,
  deletions: DeletionLog,
  now: number,
): Promise<IdentityVerdict> {
  const verdict = identityVerdict(state, notice, event.timestamp, now);
  if (!('survivor' in notice) || verdict.action === 'not-named') return verdict;
  const deletedAt = await deletions.deletedAt(key.owner?.capillaryOrg ?? DEFAULT_CAPILLARY_ORG_ID, notice.survivor);
  return deletedAt === undefined ? verdict : mergedIntoDeleted(state, verdict, notice.survivor, deletedAt);
}

/**
 * A settled merge-pending link: the member gets this channel's subscription as the record has it, as a link sets it.
 * Capillary's merge keeps the survivor's own subscription where both customers had one (an earlier unlink's opt-out).
 * A member gone since is left to the user's next event, which re-resolves it.
 */
async function subscribeAsRecorded(
  { claimed, channel, log, call }: Pick<IdentityContext, 'claimed' | 'channel' | 'log' | 'call'>,
  memberId: number | null | undefined,
): Promise<void> {
  const { subscription } = claimed.state;
  if (typeof memberId !== 'number' || subscription === undefined) return;
  try {
    await channel.customers.setSubscription(memberId, subscription, call);
  } catch (error) {
    if (!(error instanceof CustomerGoneError)) throw error;
    log.info('Settled link: the member is gone in Capillary; the next event re-resolves it', { customerId: memberId });
  }
}

/** One count per outcome, per channel (each name written out: the dashboard test finds the metrics by their names). */
function countIdentityChange(action: IdentityAction, channel: string): void {
  if (action === 'repointed') countForChannel('IdentityRepointed', channel);
  else if (action === 'link-settled') countForChannel('IdentityLinkSettled', channel);
  else if (action === 'link-rejected') countForChannel('IdentityLinkRejected', channel);
  else if (action === 'forgotten') countForChannel('IdentityForgotten', channel);
  else countForChannel('IdentityNotNamed', channel);
}
