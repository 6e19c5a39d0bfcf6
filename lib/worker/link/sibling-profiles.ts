import { subscriptionOnLink, type CustomerReference } from '../../domain/link-rules';
import type { LineEventFacts } from '../../domain/sync-rules';
import { countForChannel } from '../../observability/telemetry';
import { ClaimHeldError } from '../../store/errors';
import type { LineUserKey, UserRecordStore } from '../../store/ports';
import { claimUserRecord, type ClaimedEvent, type Skipped } from '../claim-user-record';
import { showMemberMenu } from '../loyalty/member-menu';
import type { LinkContext, SiblingChannel } from './link-context';
import {
  detachPrevious,
  profileHolder,
  recordLinked,
  restorePrevious,
  type Detached,
  type ProfileMove,
} from './move-profile';

/**
 * Channels of one provider see the same user id, and Capillary keeps a LINE user id on one customer across the
 * org's accounts: adding it to a member while another account's profile carries it on another customer merges the
 * add into that customer (8050). So the user's profiles of the provider move together, in the link (or unlink)
 * event itself, each under this event's claim on that channel's record of the user: while they move, no event of
 * those channels (a follow, say) acts on a customer the move is changing.
 */
export interface SiblingRecord {
  channel: SiblingChannel;
  /** this event's claim on the channel's record of the user */
  claimed: ClaimedEvent;
  /**
   * The customer carrying this channel's LINE profile: the one the record names, else the one Capillary has it on
   * (a follow whose registration reached Capillary and never completed, its answer lost)
   */
  customerId: number | undefined;
  /** what the link took off the sibling's customer: put back if the link fails */
  detached?: Detached;
}

/**
 * This event's claims on the user's records of the org's other channels, in the link lane and by the same rule as
 * its own. A record that recorded this event already (a retry after it completed there) needs nothing. A sibling
 * record that holds a newer link-lane event makes this one stale; a live claim there makes it wait: every claim
 * this event holds is released first (nothing has changed yet), so two links on two siblings never wait on each other.
 */
export async function claimSiblings(link: LinkContext): Promise<SiblingRecord[] | { skipped: Skipped }> {
  const { siblings, claimed, log } = link;
  const records = await siblingKeys(siblings.channels, claimed.key);
  const claims: SiblingRecord[] = [];
  const releaseAll = () => release([...claims, { claimed }]);
  try {
    for (const { channel, key } of records) {
      const sibling = await claimUserRecord(key, claimed.event, siblings.records, channel.id, log);
      if ('claimed' in sibling) claims.push({ channel, claimed: sibling.claimed, customerId: undefined });
      else if (sibling.skipped.reason === 'stale') {
        await releaseAll(); // the worker then forgets this event's marks on the siblings, as for any ending link
        return sibling;
      }
    }
  } catch (error) {
    if (!(error instanceof ClaimHeldError)) throw error;
    // Retried, it leaves no mark of its own on a sibling either: one it could not claim may carry this event's
    // in-flight mark from an earlier attempt, which would hold that record's link lane for an event released here.
    await releaseAll();
    for (const { key } of records.filter(({ channel }) => !claims.some((record) => record.channel === channel)))
      await siblings.records.forgetInFlight(key, claimed.event);
    throw error;
  }
  for (const record of claims)
    record.customerId = await profileHolder(
      { channel: record.channel, userId: claimed.key.userId, call: link.call },
      record.claimed.state.customerId,
    );
  return claims;
}

/** The user's records of the sibling channels, one per bot other than this event's own (channels of a bot share it). */
async function siblingKeys(channels: readonly SiblingChannel[], home: LineUserKey) {
  const keys: { channel: SiblingChannel; key: LineUserKey }[] = [];
  const bots = new Set([home.destination]);
  for (const channel of channels) {
    // Its own channel as owner: the customer index routes Capillary's notifications to that channel's group.
    const owner = home.owner && { ...home.owner, channel: channel.id };
    const key = { destination: await channel.destination(), userId: home.userId, owner };
    if (bots.has(key.destination)) continue;
    bots.add(key.destination);
    keys.push({ channel, key });
  }
  return keys;
}

/**
 * A link-lane event found stale on its own record will never run again: any in-flight mark an earlier attempt of it
 * left on a sibling record (a claim another lane took over keeps it) would hold that record's link lane for good.
 */
export async function forgetMarksOnSiblings(
  channels: readonly SiblingChannel[],
  home: LineUserKey,
  event: LineEventFacts,
  records: UserRecordStore,
): Promise<void> {
  for (const { key } of await siblingKeys(channels, home)) await records.forgetInFlight(key, event);
}

/** Leaves each record as it was: claimed, nothing applied (the event is not recorded there). */
export async function release(records: readonly Pick<SiblingRecord, 'claimed'>[]): Promise<void> {
  for (const { claimed } of records) await claimed.complete({ recordEvent: false });
}

/** The siblings whose record names a customer: their profile is somewhere in Capillary, and moves with the user's. */
export const onACustomer = (records: readonly SiblingRecord[]) =>
  records.filter((record) => record.customerId !== undefined);

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

/**
 * Each sibling not on the member yet: opted out on its customer and its LINE profile taken off. A friend whose
 * profile no customer carries (an attempt of this link died after its detach) has nothing to take off: it joins the
 * member with the rest.
 */
export async function detachSiblings(link: LinkContext, records: SiblingRecord[], memberId: number): Promise<void> {
  for (const record of records) {
    const previous = record.customerId;
    if (previous === undefined && record.claimed.state.subscription === 'OPTIN')
      record.detached = { customerId: undefined };
    else if (previous !== undefined && previous !== memberId)
      record.detached = await detachPrevious(moveOf(link, record), previous, memberId);
  }
}

/** Each detached sibling's profile onto the member; the first refusal's reason, or undefined when all are on. */
export async function attachSiblings(
  link: LinkContext,
  records: readonly SiblingRecord[],
  memberId: number,
  customer: CustomerReference,
): Promise<string | undefined> {
  for (const { channel, detached } of records) {
    if (detached === undefined) continue;
    const attached = await channel.members.attach(memberId, link.claimed.key.userId, customer, link.call);
    if (!attached.attached) return attached.reason;
  }
  return undefined;
}

/** The link failed: each sibling's LINE profile back on its customer (off the member first), with its subscription. */
export async function restoreSiblings(link: LinkContext, records: readonly SiblingRecord[], memberId: number) {
  for (const record of records) {
    if (record.detached === undefined) continue;
    await record.channel.members.detach(memberId, link.claimed.key.userId, link.call);
    await restorePrevious(moveOf(link, record), record.detached, record.claimed.state.subscription);
  }
}

/** Each sibling on a customer is now on the member with its own subscription; every sibling is recorded linked. */
export async function recordSiblingsLinked(
  link: LinkContext,
  records: readonly SiblingRecord[],
  customer: CustomerReference,
  memberId: number,
): Promise<void> {
  for (const record of records) {
    const { channel, claimed } = record;
    if (record.customerId === undefined && record.detached === undefined) {
      await recordLinked({ ...link, claimed }, customer, memberId);
      continue;
    }
    const subscription = subscriptionOnLink(claimed.state.subscription, 'id-token');
    await channel.customers.setSubscription(memberId, subscription, link.call);
    await recordLinked({ ...link, claimed }, customer, memberId, subscription);
    await showMemberMenu(channel, claimed.key.userId, memberId, { ...link, log: moveOf(link, record).log });
    countForChannel('LinkSiblingMoved', channel.id);
  }
}

export function moveOf({ claimed, call, log }: LinkContext, { channel }: Pick<SiblingRecord, 'channel'>): ProfileMove {
  return {
    channel,
    userId: claimed.key.userId,
    call,
    log: log.createChild({ persistentKeys: { siblingChannel: channel.id } }),
  };
}
