/**
 * What Capillary's tier notifications mean for one LINE user's rich menu. Pure: no AWS, no HTTP.
 *
 * The notifications function reads a `tierUpgraded`, `tierDowngraded` or `tierRenewed` (domain/loyalty-rules
 * readTierChange) and queues one tier event per LINE user whose record names the customer, into that user's FIFO
 * group. The worker applies it in the user's `loyalty` lane, whose last applied time is the last tier change applied
 * for the user: an older notification is stale and skipped (domain/sync-rules admission).
 */
import { isRecord } from '../is-record';
import type { MemberTier, TierChange } from './loyalty-rules';
import type { UserSyncState } from './sync-rules';

/** The event type the notifications function queues; neither LINE nor the link API sends it. */
export const CAPILLARY_TIER_TYPE = 'capillary.tier';

/** A tier change as the queued tier event carries it (field `capillary`). */
export interface TierNotice extends MemberTier {
  type: typeof CAPILLARY_TIER_TYPE;
  customerId: number;
  tierNumber: number;
}

export function tierNoticeOf(change: TierChange): TierNotice {
  const { customerId, tierNumber, tierName } = change;
  return { type: CAPILLARY_TIER_TYPE, customerId, tierNumber, ...(tierName === undefined ? {} : { tierName }) };
}

const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;

/** The notice of a queued tier event, or undefined when the event does not carry a valid one. */
export function queuedTierNoticeOf(type: string, raw: unknown): TierNotice | undefined {
  if (type !== CAPILLARY_TIER_TYPE || !isRecord(raw)) return undefined;
  const [customerId, tierNumber] = [positive(raw.customerId), positive(raw.tierNumber)];
  if (customerId === undefined || tierNumber === undefined) return undefined;
  const tierName = typeof raw.tierName === 'string' && raw.tierName.trim() !== '' ? raw.tierName : undefined;
  return { type, customerId, tierNumber, ...(tierName === undefined ? {} : { tierName }) };
}

/**
 * `show`: the user is linked to the member whose tier changed, so the tier's menu shows. `remove`: the record no
 * longer links that member (unlinked, re-pointed by a merge, forgotten after the index found it): the user must have
 * no per-user menu, so the account's default shows (a DELETE is harmless when there is none).
 */
export function tierMenuAction(state: UserSyncState, notice: TierNotice): 'show' | 'remove' {
  return state.linkedCustomerId === notice.customerId ? 'show' : 'remove';
}
