/**
 * The loyalty part of the Capillary stand-in (docs/loyalty.md#local): one program with tiers, each customer's tier,
 * points and expiry schedule, changed on `POST /__admin/tier` and `POST /__admin/points`, and answered on
 * `GET /v2/customers/{id}` for `embed=points`, `mlp`, `expirySchedules` and `gapDetails`, in the field names of
 * Capillary's samples. A customer nobody changed is in the lowest tier with no points.
 */
import { isRecord } from '../../lib/is-record';
import { InvalidAdminRequestError } from './standin-kit';

export interface LoyaltyTier {
  tierNumber: number;
  tierName: string;
  /** the current points that reach this tier (an upgrade strategy on CURRENT_POINTS) */
  upgradeThreshold: number;
}

export interface LoyaltyProgram {
  id: number;
  name: string;
  tiers: LoyaltyTier[];
}

export interface ExpiryEntry {
  points: number;
  /** YYYY-MM-DD */
  expiryDate: string;
}

export interface MemberLoyaltyRecord {
  tierNumber: number;
  points: number;
  expirySchedules: ExpiryEntry[];
}

/** What a tier change did, for whoever sends the tier notification. */
export interface TierChangeRecord {
  customerId: number;
  previousTierNumber: number;
  tierNumber: number;
}

/** What a points change did, for whoever sends the points notification. */
export interface PointsChangeRecord {
  customerId: number;
  previousPoints: number;
  points: number;
}

/** Who is told of the ledger's changes (the stand-in's notifications). */
export interface LoyaltyChangeListener {
  tierChanged(change: TierChangeRecord): void;
  pointsChanged(change: PointsChangeRecord): void;
}

export const DEFAULT_LOYALTY_PROGRAM: LoyaltyProgram = {
  id: 978,
  name: 'Local loyalty program',
  tiers: [
    { tierNumber: 1, tierName: 'Silver', upgradeThreshold: 0 },
    { tierNumber: 2, tierName: 'Gold', upgradeThreshold: 1000 },
    { tierNumber: 3, tierName: 'Platinum', upgradeThreshold: 5000 },
  ],
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SLAB_EXPIRY = '2126-12-31T23:59:59Z';

export class LoyaltyLedger {
  #members = new Map<number, MemberLoyaltyRecord>();

  constructor(
    readonly program: LoyaltyProgram,
    private readonly isCustomer: (customerId: number) => boolean,
    private readonly listener: LoyaltyChangeListener = { tierChanged: () => {}, pointsChanged: () => {} },
  ) {}

  memberOf(customerId: number): MemberLoyaltyRecord {
    return structuredClone(this.#members.get(customerId) ?? { tierNumber: 1, points: 0, expirySchedules: [] });
  }

  /** `tier`: a tier name (any case) or number of the program. */
  setTier(customerId: number, tier: string | number): TierChangeRecord {
    const found = this.program.tiers.find((t) =>
      typeof tier === 'number' ? t.tierNumber === tier : t.tierName.toLowerCase() === tier.toLowerCase(),
    );
    if (found === undefined)
      throw new InvalidAdminRequestError(
        `no tier ${tier}; the tiers: ${this.program.tiers.map((t) => t.tierName).join(', ')}`,
      );
    const member = this.#member(customerId);
    const previousTierNumber = member.tierNumber;
    member.tierNumber = found.tierNumber;
    const change = { customerId, previousTierNumber, tierNumber: found.tierNumber };
    this.listener.tierChanged(change);
    return change;
  }

  setPoints(customerId: number, points: number, expirySchedules?: ExpiryEntry[]): MemberLoyaltyRecord {
    const member = this.#member(customerId);
    const previousPoints = member.points;
    member.points = points;
    if (expirySchedules !== undefined) member.expirySchedules = structuredClone(expirySchedules);
    if (points !== previousPoints) this.listener.pointsChanged({ customerId, previousPoints, points });
    return this.memberOf(customerId);
  }

  /** The fields `GET /v2/customers/{id}` adds for these embeds (a comma-separated list, as the bridge sends it). */
  embeds(customerId: number, embed: string | null): Record<string, unknown> {
    const wanted = new Set((embed ?? '').split(',').map((name) => name.trim()));
    const member = this.memberOf(customerId);
    const tier = this.program.tiers.find((t) => t.tierNumber === member.tierNumber) ?? this.program.tiers[0];
    const next = this.program.tiers.find((t) => t.tierNumber === member.tierNumber + 1);
    const summary = {
      loyaltyPoints: member.points,
      lifetimePoints: member.points,
      currentSlab: tier?.tierName,
      slabSNo: member.tierNumber,
      nextSlab: next?.tierName ?? '',
      nextSlabSerialNumber: next?.tierNumber ?? -1,
      nextSlabDescription: next?.tierName ?? '',
      slabExpiryDate: SLAB_EXPIRY,
    };
    const gap = next === undefined ? [] : [gapStrategy(member.points, next.upgradeThreshold)];
    return {
      ...(wanted.has('points') ? { pointsSummary: summary } : {}),
      ...(wanted.has('mlp')
        ? {
            loyaltyProgramDetails: [
              {
                ...summary,
                programId: this.program.id,
                programTitle: this.program.name,
                ...(wanted.has('gapDetails') ? { upgradeStrategies: gap } : {}),
              },
            ],
          }
        : {}),
      ...(wanted.has('expirySchedules')
        ? { expirySchedules: member.expirySchedules.map((entry) => ({ ...entry, programId: this.program.id })) }
        : {}),
    };
  }

  /** customer id → record, for the members whose loyalty was changed (GET /__admin/state) */
  members(): Record<string, MemberLoyaltyRecord> {
    return structuredClone(Object.fromEntries(this.#members));
  }

  reset(): void {
    this.#members.clear();
  }

  /** `POST /__admin/tier {customerId, tier}`, `POST /__admin/points {customerId, points, expirySchedules?}`. */
  readonly adminRoutes: Record<string, (body: unknown) => unknown> = {
    'POST /__admin/tier': (body) => {
      if (!isRecord(body) || (typeof body.tier !== 'string' && typeof body.tier !== 'number'))
        throw new InvalidAdminRequestError('body must be {"customerId": N, "tier": name or number}');
      return this.setTier(this.#customerIdOf(body), body.tier);
    },
    'POST /__admin/points': (body) => {
      if (!isRecord(body) || typeof body.points !== 'number' || !Number.isFinite(body.points))
        throw new InvalidAdminRequestError('body must be {"customerId": N, "points": N, "expirySchedules"?: [...]}');
      return this.setPoints(this.#customerIdOf(body), body.points, parseSchedules(body.expirySchedules));
    },
  };

  #customerIdOf(body: Record<string, unknown>): number {
    const { customerId } = body;
    if (typeof customerId !== 'number' || !this.isCustomer(customerId))
      throw new InvalidAdminRequestError(`no customer ${String(customerId)}`);
    return customerId;
  }

  #member(customerId: number): MemberLoyaltyRecord {
    if (!this.isCustomer(customerId)) throw new InvalidAdminRequestError(`no customer ${customerId}`);
    const member = this.#members.get(customerId) ?? this.memberOf(customerId);
    this.#members.set(customerId, member);
    return member;
  }
}

/** The strategy shape of the current docs' gap fields (`embed=gapDetails`). */
function gapStrategy(points: number, upgradeThreshold: number) {
  return {
    upgradeBasedOn: 'CURRENT_POINTS',
    upgradeThreshold,
    customerUpgradeEntityValues: { currentValue: points, gapToUpgrade: Math.max(0, upgradeThreshold - points) },
  };
}

function parseSchedules(raw: unknown): ExpiryEntry[] | undefined {
  if (raw === undefined) return undefined;
  const valid = (entry: unknown): entry is ExpiryEntry =>
    isRecord(entry) &&
    typeof entry.points === 'number' &&
    typeof entry.expiryDate === 'string' &&
    DATE.test(entry.expiryDate);
  if (!Array.isArray(raw) || !raw.every(valid))
    throw new InvalidAdminRequestError('expirySchedules must be [{"points": N, "expiryDate": "YYYY-MM-DD"}, …]');
  return raw.map(({ points, expiryDate }) => ({ points, expiryDate }));
}
