/** How LINE followers are written to Capillary: the same for every org and channel. */
import type { BulkCountsAs } from '../domain/backfill-rules';
import { DEFAULTS } from './defaults';
import type { EnvReader } from './env-reader';

/** `on-link`: no customer until the follower links to a member (docs/architecture.md#linking). */
export type RegistrationMode = 'instore+line' | 'line-only' | 'on-link';
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['instore+line', 'line-only', 'on-link'];

export interface CapillaryConfig {
  subscriptionChannel: string;
  /** undefined = omit orgUnitId from subscription bodies */
  orgUnitId: number | undefined;
  registrationMode: RegistrationMode;
  externalIdPrefix: string;
  /** the LINE opt-in inside the add-customer call (subscriptionInfo), falling back to a separate call where refused */
  subscribeOnRegister: boolean;
  /** instore+line: both profiles in one add-customer call (Unconfirmed), falling back to two calls where refused */
  registerProfilesTogether: boolean;
  /** what one bulk upsert takes from the rate limit: the backfill's batches and the worker's new followers (Unconfirmed) */
  bulkCountsAs: BulkCountsAs;
  timeoutMs: number;
  maxAttempts: number;
}

export function readCapillaryRegistration(read: EnvReader): CapillaryConfig {
  return {
    subscriptionChannel: read.optional('CAPILLARY_SUBSCRIPTION_CHANNEL') ?? DEFAULTS.CAPILLARY_SUBSCRIPTION_CHANNEL,
    orgUnitId: readOrgUnitId(read),
    registrationMode: read.oneOf(
      'CAPILLARY_REGISTRATION_MODE',
      REGISTRATION_MODES,
      DEFAULTS.CAPILLARY_REGISTRATION_MODE,
    ),
    externalIdPrefix: read.optional('CAPILLARY_EXTERNAL_ID_PREFIX') ?? DEFAULTS.CAPILLARY_EXTERNAL_ID_PREFIX,
    subscribeOnRegister: read.flag('CAPILLARY_SUBSCRIBE_ON_REGISTER', DEFAULTS.CAPILLARY_SUBSCRIBE_ON_REGISTER),
    registerProfilesTogether: read.flag(
      'CAPILLARY_REGISTER_PROFILES_TOGETHER',
      DEFAULTS.CAPILLARY_REGISTER_PROFILES_TOGETHER,
    ),
    // Unconfirmed whether a bulk call counts once or per record: per record (the safe reading) unless set.
    bulkCountsAs: read.oneOf(
      'CAPILLARY_BULK_COUNTS_AS',
      ['request', 'record'] as const,
      DEFAULTS.CAPILLARY_BULK_COUNTS_AS,
    ),
    timeoutMs: read.integer('CAPILLARY_TIMEOUT_MS', DEFAULTS.CAPILLARY_TIMEOUT_MS, 100, 60_000),
    maxAttempts: read.integer('CAPILLARY_MAX_ATTEMPTS', DEFAULTS.CAPILLARY_MAX_ATTEMPTS, 1, 10),
  };
}

/** An integer, or `omit` for subscription bodies without one. */
function readOrgUnitId(read: EnvReader): number | undefined {
  const orgUnit = read.optional('CAPILLARY_ORG_UNIT_ID') ?? DEFAULTS.CAPILLARY_ORG_UNIT_ID;
  if (orgUnit === 'omit') return undefined;
  const orgUnitId = Number(orgUnit);
  if (!Number.isInteger(orgUnitId))
    read.problem('CAPILLARY_ORG_UNIT_ID', `must be an integer or "omit", got "${orgUnit}"`);
  return orgUnitId;
}
