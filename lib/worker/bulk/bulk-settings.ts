import type { CapillaryConfig } from '../../config/capillary-registration';
import { bulkCost, type BulkCountsAs } from '../../domain/backfill-rules';

/** When the worker registers a batch's new followers in one bulk call (CAPILLARY_BULK_COUNTS_AS). */
export interface BulkRegistrationSettings {
  countsAs: BulkCountsAs;
  /** Capillary calls (rate-limit tokens) one follower's registration on its own takes in this configuration */
  callsPerSingleRegistration: number;
}

/** undefined in on-link mode: a follow registers nobody there. */
export function bulkRegistrationSettings(config: CapillaryConfig): BulkRegistrationSettings | undefined {
  if (config.registrationMode === 'on-link') return undefined;
  const profileCalls = config.registrationMode === 'instore+line' && !config.registerProfilesTogether ? 2 : 1;
  // A bulk record always carries the opt-in; a single registration configured without it makes a call for it.
  const optInCalls = config.subscribeOnRegister ? 0 : 1;
  return { countsAs: config.bulkCountsAs, callsPerSingleRegistration: profileCalls + optInCalls };
}

/**
 * One bulk call for `records` followers is worth it when there are several and it takes no more of the rate limit
 * than their registrations on their own: always with `request` counting (1 token); with `record` counting (N
 * tokens) where a single registration takes at least one call each, so a bulk call never waits longer for its
 * tokens than the single calls would together.
 */
export function bulkPays(records: number, { countsAs, callsPerSingleRegistration }: BulkRegistrationSettings): boolean {
  return records >= 2 && bulkCost(records, countsAs) <= records * callsPerSingleRegistration;
}
