import { createHash } from 'node:crypto';

import { BRIDGE_LINK_SIBLING_TYPE, siblingMoveField, type SiblingMove } from '../../domain/link-rules';
import type { UserSyncState } from '../../domain/sync-rules';
import type { LineWebhookEvent } from '../../line/callback';
import { countForChannel } from '../../observability/telemetry';
import { SiblingQueueMissingError } from '../errors';
import type { LinkContext, SiblingChannel } from './link-context';
import { detachPrevious, restorePrevious, type Detached, type ProfileMove } from './move-profile';

/**
 * Channels of one provider see the same user id, and Capillary keeps a LINE user id on one customer across the
 * org's accounts: adding it to the member while another account's profile carries it on another customer merges
 * the add into that customer (8050) instead of the member. So a link takes the user's LINE profiles of the org's
 * other channels off their customers first, attaches its own, and then queues each of those channels a
 * `bridge.link-sibling` event that attaches that channel's profile to the member under that channel's claim.
 */
export interface SiblingRecord {
  channel: SiblingChannel;
  destination: string;
  state: UserSyncState & { customerId: number };
  /** what the link took off the sibling's customer: put back if the link fails */
  detached?: Detached;
}

/** The org's other channels whose record of this user names a customer other than the member. */
export async function siblingsToMove(link: LinkContext, memberId: number): Promise<SiblingRecord[]> {
  const { siblings, claimed } = link;
  const { userId, destination: own } = claimed.key;
  const found = await Promise.all(
    siblings.channels.map(async (channel) => {
      const destination = await channel.destination();
      const state = destination === own ? undefined : await siblings.records.read({ destination, userId });
      return { channel, destination, state };
    }),
  );
  const moving = found.filter(
    (sibling): sibling is SiblingRecord =>
      sibling.state?.customerId !== undefined && sibling.state.customerId !== memberId,
  );
  // Checked before anything changes: without a queue, the siblings' moves could not follow.
  if (moving.length > 0 && siblings.queue === undefined)
    throw new SiblingQueueMissingError(claimed.event.webhookEventId);
  return moving;
}

/** The member already carries another LINE user in one of the siblings' accounts (Capillary keeps one per account). */
export async function siblingHoldsAnotherLineUser(
  { claimed, call }: LinkContext,
  records: readonly SiblingRecord[],
  memberId: number,
): Promise<boolean> {
  for (const { channel } of records)
    if (await channel.members.holdsAnotherLineUser(memberId, claimed.key.userId, call)) return true;
  return false;
}

/** Each sibling opted out on its customer and its LINE profile taken off (what was taken is kept on the record). */
export async function detachSiblings(link: LinkContext, records: SiblingRecord[], memberId: number): Promise<void> {
  for (const record of records)
    record.detached = await detachPrevious(moveOf(link, record), record.state.customerId, memberId);
}

/** The link failed: each sibling's LINE profile back on its customer, with its subscription. */
export async function restoreSiblings(link: LinkContext, records: readonly SiblingRecord[]): Promise<void> {
  for (const record of records)
    if (record.detached !== undefined)
      await restorePrevious(moveOf(link, record), record.detached, record.state.subscription);
}

/** One `bridge.link-sibling` per sibling, queued before the link completes (a failed send retries the link). */
export async function queueSiblingMoves(
  link: LinkContext,
  records: readonly SiblingRecord[],
  move: SiblingMove,
): Promise<void> {
  const { siblings, claimed, channel, now, log } = link;
  for (const { channel: sibling, destination } of records) {
    await siblings.queue?.send(sibling.id, destination, [
      siblingEvent(claimed.event.webhookEventId, destination, claimed.key.userId, move, now),
    ]);
    countForChannel('LinkSiblingQueued', channel.id);
    log.info('Link move queued for another channel of the provider', { siblingChannel: sibling.id });
  }
}

/**
 * The move for one sibling channel, shaped like LINE's events so the worker orders it in that channel's FIFO group
 * and record (lane `link`). Its id derives from the link event and the sibling's bot, so a retried link queues
 * the same event: SQS drops it within 5 minutes, the sibling's record (a duplicate) after that.
 */
export function siblingEvent(
  linkEventId: string,
  destination: string,
  userId: string,
  move: SiblingMove,
  now: number,
): LineWebhookEvent {
  const digest = createHash('sha256').update(`${linkEventId}\n${destination}`).digest('base64url');
  const type: string = BRIDGE_LINK_SIBLING_TYPE; // not a LINE type: LINE never sends it
  return {
    type,
    mode: 'active',
    timestamp: now,
    webhookEventId: `SIBLING-${digest}`,
    source: { type: 'user', userId },
    deliveryContext: { isRedelivery: false },
    sibling: siblingMoveField(move),
  } as LineWebhookEvent;
}

function moveOf({ claimed, call, log }: LinkContext, { channel }: SiblingRecord): ProfileMove {
  return {
    channel,
    userId: claimed.key.userId,
    call,
    log: log.createChild({ persistentKeys: { siblingChannel: channel.id } }),
  };
}
