/**
 * The drift check's classes (docs/operations.md#drift-check): the four of domain/backfill-rules (LINE, the table and
 * the subscription) and three of identity (who is who), each with the event that repairs it through the ordered
 * pipeline. Pure: the observations are read elsewhere.
 * - `orphaned-follower`: a friend whose record names no customer (and registration does not wait for a link), or whose
 *   customer no longer carries the LINE profile that nobody else carries either;
 * - `linked-elsewhere`: the LINE profile sits on another customer than the one the record names;
 * - `dead-customer`: the record names a customer Capillary no longer has (merged away, deleted).
 * A forgotten user (Capillary deleted the customer on a PII request) is on no customer on purpose: reported apart,
 * never repaired — being still a friend is no new consent.
 */
import { classifyDrift, DRIFT_CLASSES, repairEventType, type UserObservation } from '../../lib/domain/backfill-rules';
import { BRIDGE_REATTACH_TYPE, type ReattachRequest } from '../../lib/domain/identity-rules';
import type { CustomerIdentity } from './identity-reader';

export const IDENTITY_DRIFT_CLASSES = ['orphaned-follower', 'linked-elsewhere', 'dead-customer'] as const;
export const RECONCILE_DRIFT_CLASSES = [...DRIFT_CLASSES, ...IDENTITY_DRIFT_CLASSES] as const;
export type ReconcileDriftClass = (typeof RECONCILE_DRIFT_CLASSES)[number];

export interface ReconcileObservation extends UserObservation {
  /** what Capillary says about the record's customer; undefined when not read (sampling, or no customer) */
  identity?: CustomerIdentity;
}

/** CAPILLARY_REGISTRATION_MODE=on-link: a friend who never linked has no customer, and that is right. */
export interface RegistrationPolicy {
  defersRegistration: boolean;
}

export type ReconcileVerdict = ReconcileDriftClass | 'forgotten' | undefined;

export function classifyReconcile(observation: ReconcileObservation, policy: RegistrationPolicy): ReconcileVerdict {
  const { isFollower, table, identity } = observation;
  if (table?.forgottenAt !== undefined) return 'forgotten';
  // A record with a claim in flight is being changed right now: not drift, the pipeline is on it.
  if (table?.pendingEventId !== undefined) return undefined;
  // Who is who first: a follow or unfollow repair would act on the wrong customer.
  if (identity?.kind === 'gone') return 'dead-customer';
  if (identity?.kind === 'lacks-line-profile') {
    if (identity.holderId !== undefined) return 'linked-elsewhere';
    if (isFollower) return 'orphaned-follower';
  }
  const drift = classifyDrift(observation);
  if (drift !== undefined) return drift;
  if (isFollower && table?.customerId === undefined && !policy.defersRegistration) return 'orphaned-follower';
  return undefined;
}

/** The queued event that repairs a drift: LINE's truth at the time it was observed, or the profile put back. */
export type RepairEvent =
  { type: 'follow' | 'unfollow' } | { type: typeof BRIDGE_REATTACH_TYPE; reattach: ReattachRequest };

export function repairOf(drift: ReconcileDriftClass, observation: ReconcileObservation): RepairEvent {
  const { isFollower, table, identity } = observation;
  switch (drift) {
    // The worker finds the user again by the LINE identifier, re-points the record and applies it there.
    case 'dead-customer':
      return { type: isFollower ? 'follow' : 'unfollow' };
    case 'orphaned-follower':
    case 'linked-elsewhere': {
      const customerId = table?.customerId;
      // No customer named: a follow registers one (or finds the one that holds the LINE id).
      if (customerId === undefined) return { type: 'follow' };
      const holderId = identity?.kind === 'lacks-line-profile' ? identity.holderId : undefined;
      return {
        type: BRIDGE_REATTACH_TYPE,
        reattach: holderId === undefined ? { customerId } : { customerId, holderId },
      };
    }
    default:
      return { type: repairEventType(drift, observation) };
  }
}
