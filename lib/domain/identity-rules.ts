/**
 * What Capillary's own identity changes mean for a LINE user's record. Pure: no AWS, no HTTP.
 *
 * Capillary tells the bridge (its event notifications, lib/notifications) when it merged a customer into another
 * or deleted one on a PII request. The notifications function queues one identity event per LINE user whose
 * record names that customer, into the user's FIFO group; the worker applies it in the user's `identity` lane.
 * Each is an idempotent re-point: it applies only while the record still names the customer (or remembers replacing
 * it: a deletion), so a duplicate, a late arrival or an index entry that was already stale changes nothing.
 */
import { isRecord } from '../is-record';
import { pendingMergeRequestOf } from './link-rules';
import type { LineEventFacts, LinkState, Replacement, UserSyncState } from './sync-rules';

/** Events the notifications function queues; neither LINE nor the link API sends these types. */
export const CAPILLARY_MERGE_TYPE = 'capillary.merge';
export const CAPILLARY_DELETE_TYPE = 'capillary.delete';

/**
 * The drift check's repair of a user whose LINE profile is on no customer or on another one than the record names: the
 * profile goes (back) on the customer the record names (ops/reconcile, lib/worker/identity/reattach-line-profile).
 */
export const BRIDGE_REATTACH_TYPE = 'bridge.reattach';

/** What the reattach event carries (field `reattach`): the customer the check saw the record name, and who held the profile. */
export interface ReattachRequest {
  customerId: number;
  holderId?: number;
}

export function reattachRequestOf(raw: unknown): ReattachRequest | undefined {
  if (!isRecord(raw)) return undefined;
  const [customerId, holderId] = [raw.customerId, raw.holderId].map(customerIdOf);
  if (customerId === undefined || holderId === customerId) return undefined;
  return holderId === undefined ? { customerId } : { customerId, holderId };
}

/** What happened in Capillary, as the queued identity event carries it (field `capillary`). */
export type IdentityNotice =
  /** loyaltyCustomerMerge: the victim's profiles now belong to the survivor, and the victim id answers 8069 */
  | { type: typeof CAPILLARY_MERGE_TYPE; survivor: number; victim: number }
  /** requestUpdated of a merge request, approved (settles the merge-pending link that filed it) or rejected (fails it) */
  | { type: typeof CAPILLARY_MERGE_TYPE; customerId: number; mergeRequestId?: string; rejected?: true }
  /** requestUpdated CUSTOMER / DELETE / APPROVED: the customer's PII is deleted */
  | { type: typeof CAPILLARY_DELETE_TYPE; customerId: number };

/** What applying a notice changes in the record; an absent field keeps its value, null removes it. */
export interface IdentityChange {
  customerId?: number | null;
  linkedCustomerId?: number | null;
  link?: LinkState | null;
  subscription?: null;
  linkRefs?: null;
  forgottenAt?: number;
  replaced?: null;
}

export type IdentityAction = 'repointed' | 'link-settled' | 'link-rejected' | 'forgotten' | 'not-named';

/** `not-named`: the record no longer names the customer (already applied, or re-pointed since): recorded, nothing else. */
export interface IdentityVerdict {
  action: IdentityAction;
  change: IdentityChange;
  /** forgotten: the customer a follow from before the deletion put the user on; the bridge takes back what it wrote there */
  takeBackFrom?: number;
}

const customerIdOf = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;

/** The notice of a queued identity event, or undefined when the event does not carry a valid one. */
export function identityNoticeOf(type: string, raw: unknown): IdentityNotice | undefined {
  if (!isRecord(raw)) return undefined;
  const [survivor, victim, customerId] = [raw.survivor, raw.victim, raw.customerId].map(customerIdOf);
  if (type === CAPILLARY_DELETE_TYPE) return customerId === undefined ? undefined : { type, customerId };
  if (type !== CAPILLARY_MERGE_TYPE) return undefined;
  if (survivor !== undefined && victim !== undefined && survivor !== victim) return { type, survivor, victim };
  if (customerId === undefined) return undefined;
  return {
    type,
    customerId,
    ...(typeof raw.mergeRequestId === 'string' ? { mergeRequestId: raw.mergeRequestId } : {}),
    ...(raw.rejected === true ? { rejected: true as const } : {}),
  };
}

/**
 * @param createdAt when Capillary made the change (the notification's time): a deletion's `forgottenAt`
 * @param now when the worker applies it: a settled link's time
 */
export function identityVerdict(
  state: UserSyncState,
  notice: IdentityNotice,
  createdAt: number,
  now: number,
): IdentityVerdict {
  if (notice.type === CAPILLARY_DELETE_TYPE) return forget(state, notice.customerId, createdAt);
  return 'victim' in notice ? repoint(state, notice, now) : settleMergeRequest(state, notice, now);
}

const NOT_NAMED: IdentityVerdict = { action: 'not-named', change: {} };
const names = (state: UserSyncState, customerId: number) =>
  state.customerId === customerId || state.linkedCustomerId === customerId;

/** Every id naming the victim now names the survivor; a merge-pending link that this merge completes is linked. */
function repoint(
  state: UserSyncState,
  { survivor, victim }: { survivor: number; victim: number },
  now: number,
): IdentityVerdict {
  if (!names(state, victim)) return NOT_NAMED;
  const change: IdentityChange = {};
  if (state.customerId === victim) change.customerId = survivor;
  if (state.linkedCustomerId === victim) change.linkedCustomerId = survivor;
  const customerId = change.customerId ?? state.customerId;
  const settles =
    state.link?.status === 'merge-pending' && customerId === (change.linkedCustomerId ?? state.linkedCustomerId);
  if (!settles) return { action: 'repointed', change };
  return { action: 'link-settled', change: { ...change, link: { status: 'linked', at: now } } };
}

/**
 * The merge request a link filed was approved: the anonymous customer is merged into the member, so the record
 * names the member. Rejected: the link failed, and the user stays on the anonymous customer, which still carries the
 * LINE profile and subscription (nothing moved while it was pending); the member index entries go. A record whose
 * pending link names another request was not filed by this one.
 */
function settleMergeRequest(
  state: UserSyncState,
  { customerId, mergeRequestId, rejected }: { customerId: number; mergeRequestId?: string; rejected?: true },
  now: number,
): IdentityVerdict {
  const { link, linkedCustomerId } = state;
  if (link?.status !== 'merge-pending' || linkedCustomerId === undefined || !names(state, customerId)) return NOT_NAMED;
  const filedRequest = pendingMergeRequestOf(link);
  if (mergeRequestId !== undefined && filedRequest !== undefined && filedRequest !== mergeRequestId) return NOT_NAMED;
  if (rejected) return { action: 'link-rejected', change: { ...rejectedMergeLink(now), linkRefs: null } };
  return { action: 'link-settled', change: { customerId: linkedCustomerId, link: { status: 'linked', at: now } } };
}

/** A failed link's detail when Capillary rejected the merge request it filed. */
export const MERGE_REJECTED = 'merge-request-rejected';

/** A link whose merge request Capillary rejected: failed, on no member (the user stays on the anonymous customer). */
export const rejectedMergeLink = (now: number) => ({
  linkedCustomerId: null,
  link: { status: 'failed' as const, detail: MERGE_REJECTED, at: now },
});

/**
 * Capillary deleted the customer's PII: the record keeps only its ordering guard and the mark. The customer, the
 * member link, the link's state and the member index entries go; only a new follow registers the user again
 * (domain/sync-rules keepsForgotten). A record naming no customer any more was queued for naming this one, and an
 * event that found it gone cleared it: it is marked too, or a late tap would register the person again.
 *
 * A record that replaced this customer (an event found it deleted before this notice came) rests on the newest follow
 * since: given before the deletion (its time ≤ the deletion's) or never (an unfollow), the person asked to be gone
 * since, so the user is forgotten and what the bridge wrote on the replacement is taken back; given after the
 * deletion, it is a new consent and stays.
 */
function forget(state: UserSyncState, customerId: number, createdAt: number): IdentityVerdict {
  const replaced = state.replaced?.customerId === customerId ? state.replaced : undefined;
  if (replaced?.at !== undefined && replaced.at > createdAt) return { action: 'not-named', change: { replaced: null } };
  const namesNone = state.customerId === undefined && state.linkedCustomerId === undefined;
  if (!names(state, customerId) && !namesNone && replaced === undefined) return NOT_NAMED;
  const takeBack = replaced !== undefined && state.customerId !== undefined && state.customerId !== customerId;
  return {
    action: 'forgotten',
    change: {
      customerId: null,
      linkedCustomerId: null,
      link: null,
      subscription: null,
      linkRefs: null,
      forgottenAt: createdAt,
      ...(state.replaced === undefined ? {} : { replaced: null }),
    },
    ...(takeBack ? { takeBackFrom: state.customerId } : {}),
  };
}

/**
 * A merge re-pointed the record to a survivor that Capillary has deleted on a PII request since: that deletion's notice
 * came first, when no record named the survivor yet, so the user is forgotten now, as the deletion says.
 */
export function mergedIntoDeleted(
  state: UserSyncState,
  merged: IdentityVerdict,
  survivor: number,
  deletedAt: number,
): IdentityVerdict {
  const after = (value: number | null | undefined, before: number | undefined) =>
    value === undefined ? before : (value ?? undefined);
  const { customerId, linkedCustomerId } = merged.change;
  const repointed = {
    ...state,
    customerId: after(customerId, state.customerId),
    linkedCustomerId: after(linkedCustomerId, state.linkedCustomerId),
  };
  return forget(repointed, survivor, deletedAt);
}

/**
 * What a follow or unfollow leaves of the record's replacement (UserSyncState.replaced), given the customer it put the
 * user on (if any) and the one it found deleted on a PII request (8109), if any. Finding it deleted starts the memory,
 * whether another customer replaced it or none did (the record then names none, and only this memory still leads the
 * deletion's notice to it); a follow that put the user on a customer gives the memory its time (an unfollow is no
 * consent), and a later one is a newer consent. Undefined: the memory stays as it is.
 */
export function replacementAfter(
  event: LineEventFacts,
  state: UserSyncState,
  { customerId, deleted }: { customerId: number | undefined; deleted: number | undefined },
): Replacement | undefined {
  const consent = event.type === 'follow' && customerId !== undefined ? { at: event.timestamp } : undefined;
  if (deleted !== undefined && deleted !== customerId) return { customerId: deleted, ...consent };
  return state.replaced === undefined || consent === undefined ? undefined : { ...state.replaced, ...consent };
}
