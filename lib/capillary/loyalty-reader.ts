import { chooseProgram } from '../domain/loyalty-rules';
import type { MemberLoyalty } from '../domain/member-card';
import { isRecord } from '../is-record';
import { apiErrorOf, errorCodes, type CapillaryEnvelope } from './envelope';
import type { CallOptions, CapillaryHttpClient } from './http-client';

/** The member's standing in the program shown: what the card shows, plus the tier number the menus may map. */
export interface MemberStanding extends MemberLoyalty {
  tierNumber?: number;
  programId?: number;
}

export type LoyaltyReading =
  | { outcome: 'member'; standing: MemberStanding }
  /** the customer is in no loyalty program (or not in the configured one) */
  | { outcome: 'no-program' }
  /** no such customer (never was, merged away or deleted) */
  | { outcome: 'not-found' };

/** Codes from docs/capillary.md#codes: not found, merged into another account. */
const GONE = new Set([8015, 8065, 8069]);
const EMBED = 'points,mlp,expirySchedules,gapDetails';
const DATE = /^\d{4}-\d{2}-\d{2}/;

/**
 * `GET /v2/customers/{id}?embed=points,mlp,expirySchedules,gapDetails` (docs/loyalty.md#reading-points-and-tier): one
 * call through the org's client, so it takes from the org's shared budget. Every field is read defensively: the
 * gap and the expiry schedule of a customer have no documented sample, and a field that is absent is left out.
 * Throws CapillaryUnavailableError (slow, throttled, down) and CapillaryApiError (any other failure).
 */
export async function readMemberLoyalty(
  http: CapillaryHttpClient,
  customerId: number,
  { programId, call, now = Date.now() }: { programId?: number; call: CallOptions; now?: number },
): Promise<LoyaltyReading> {
  const path = `/v2/customers/${encodeURIComponent(String(customerId))}?embed=${EMBED}`;
  const response = await http.request('read-loyalty', 'GET', path, undefined, call);
  if (errorCodes(response.body).some((code) => GONE.has(code)) || response.status === 404)
    return { outcome: 'not-found' };
  if (response.status !== 200) throw apiErrorOf('read-loyalty', response);
  const entry = programEntryOf(response.body, programId);
  if (entry === undefined) return { outcome: 'no-program' };
  const points = numberOf(entry.loyaltyPoints);
  if (points === undefined) return { outcome: 'no-program' };
  const entryProgram = numberOf(entry.programId);
  const expiring = nextExpiry(response.body.expirySchedules, entryProgram, now);
  const gapToNextTier =
    numberOf(entry.nextSlabSerialNumber) === -1 ? undefined : gapOf(entry, response.body, entryProgram);
  const tierName =
    typeof entry.currentSlab === 'string' && entry.currentSlab.trim() !== '' ? entry.currentSlab : undefined;
  const tierNumber = numberOf(entry.slabSNo);
  return {
    outcome: 'member',
    standing: {
      points,
      ...(tierName === undefined ? {} : { tierName }),
      ...(tierNumber === undefined ? {} : { tierNumber }),
      ...(entryProgram === undefined ? {} : { programId: entryProgram }),
      ...(expiring ?? {}),
      ...(gapToNextTier === undefined ? {} : { gapToNextTier }),
    },
  };
}

type Fields = Record<string, unknown>;

/** `loyaltyProgramDetails[]` (embed=mlp, one entry per program), else `pointsSummary` (embed=points, one program). */
function programEntryOf(body: CapillaryEnvelope, programId: number | undefined): Fields | undefined {
  const entries = Array.isArray(body.loyaltyProgramDetails)
    ? body.loyaltyProgramDetails.filter(isRecord).map((entry) => ({ ...entry, programId: numberOf(entry.programId) }))
    : [];
  if (entries.length > 0) return chooseProgram(entries, programId);
  // pointsSummary names no program: it can only stand for the configured one when there is no other.
  return isRecord(body.pointsSummary) ? body.pointsSummary : undefined;
}

/** Capillary writes numbers as JSON numbers (`400.0`) in v2 and as strings in v1.1; both are read. */
function numberOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** The earliest future expiry of the program (all its points that expire that day), from `expirySchedules[]`. */
function nextExpiry(
  schedules: unknown,
  programId: number | undefined,
  now: number,
): Pick<MemberLoyalty, 'expiringPoints' | 'expiryDate'> | undefined {
  const today = new Date(now).toISOString().slice(0, 10);
  const upcoming = (Array.isArray(schedules) ? schedules : []).flatMap((schedule) => {
    if (!isRecord(schedule)) return [];
    const points = numberOf(schedule.points);
    const date = typeof schedule.expiryDate === 'string' ? DATE.exec(schedule.expiryDate)?.[0] : undefined;
    const scheduleProgram = numberOf(schedule.programId);
    const otherProgram = programId !== undefined && scheduleProgram !== undefined && scheduleProgram !== programId;
    return points === undefined || points <= 0 || date === undefined || date < today || otherProgram
      ? []
      : [{ points, date }];
  });
  const first = upcoming.map(({ date }) => date).sort()[0];
  if (first === undefined) return undefined;
  const expiringPoints = upcoming.filter(({ date }) => date === first).reduce((sum, { points }) => sum + points, 0);
  return { expiringPoints, expiryDate: first };
}

/**
 * The gap to the next tier, where the current docs name it (embed=gapDetails): `upgradeStrategies[]` in the
 * program entry, or `gapToUpgrade[]` beside it or at the top level, each with `customerUpgradeEntityValues.gapToUpgrade`.
 * Several strategies (points, purchases, visits) can apply: the first one Capillary lists is shown.
 */
function gapOf(entry: Fields, body: CapillaryEnvelope, programId: number | undefined): number | undefined {
  const topLevel = Array.isArray(body.gapToUpgrade)
    ? body.gapToUpgrade.filter((s) => !isRecord(s) || s.programId === undefined || numberOf(s.programId) === programId)
    : [];
  const strategies = [entry.upgradeStrategies, entry.gapToUpgrade, topLevel].flatMap((list) =>
    Array.isArray(list) ? list : [],
  );
  for (const strategy of strategies) {
    const values = isRecord(strategy) ? strategy.customerUpgradeEntityValues : undefined;
    const gap = isRecord(values) ? numberOf(values.gapToUpgrade) : undefined;
    if (gap !== undefined && gap > 0) return gap;
  }
  return undefined;
}
