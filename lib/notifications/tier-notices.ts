/**
 * Capillary's tier notifications (`tierUpgraded`, `tierDowngraded`, `tierRenewed`; capillary-api docs "Event schema
 * – tier") as tier notices for the member's LINE users (domain/tier-rules). Pure. A notification about another
 * program than CAPILLARY_LOYALTY_PROGRAM_ID is acknowledged and counted, never applied.
 */
import { isTierEvent, readTierChange, type TierEventName } from '../domain/loyalty-rules';
import { tierNoticeOf, type TierNotice } from '../domain/tier-rules';
import { BadRequestError } from '../http/errors';
import type { CapillaryNotification } from './envelope';
import { notificationKey } from './identity-notices';

export type TierInterpretation =
  /** apply `notice` to every LINE user whose record names `customerId` (the customer → users index) */
  { kind: 'tier'; notice: TierNotice; customerId: number; key: string } | { kind: 'ignored'; reason: 'other-program' };

export { isTierEvent };

export function interpretTier(
  notification: CapillaryNotification & { name: TierEventName },
  programId?: number,
): TierInterpretation {
  const { name, createdAt, data, at } = notification;
  const reading = readTierChange({ eventName: name, createdAt, data }, programId);
  // Capillary does not retry a 400: a notification it can never make readable is refused, naming what is missing.
  if ('problem' in reading)
    throw new BadRequestError('tier-change-invalid', `${at}: ${reading.problem}`, { field: `${at}.data` });
  if ('ignored' in reading) return { kind: 'ignored', reason: reading.ignored };
  const { change } = reading;
  const key = notificationKey(notification, [change.customerId]);
  return { kind: 'tier', notice: tierNoticeOf(change), customerId: change.customerId, key };
}
