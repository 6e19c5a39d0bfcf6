/**
 * Which rich menu a loyalty member sees, and which tier change a Capillary notification announces (docs/loyalty.md).
 * Pure: no AWS, no HTTP. Tier names are matched without regard to case: Capillary spells them as the brand typed
 * them ("GOLD", "silver"), and one brand's settings should not depend on that.
 */
import { isRecord } from '../is-record';

/** A rich menu as the settings name it: its id, or an alias the bridge resolves to an id once per cold start. */
export type RichMenuRef = { richMenuId: string } | { aliasId: string };

export interface RichMenusByTier {
  /** lower-cased tier name → menu */
  byName: ReadonlyMap<string, RichMenuRef>;
  /** tier number (Capillary's serial number, 1 = lowest) → menu */
  byNumber: ReadonlyMap<number, RichMenuRef>;
  /** `"*"`: the menu of a member whose tier has no entry */
  fallback?: RichMenuRef;
}

/** The map, or every problem (each naming its key): the map is unusable unless `problems` is empty. */
export type ParsedRichMenus = { map: RichMenusByTier | undefined; problems: string[] };

export interface MemberTier {
  tierName?: string;
  tierNumber?: number;
}

export const RICH_MENU_ID = /^richmenu-[0-9a-f]{32}$/;
/** LINE's rule for alias ids (`CreateRichMenuAliasRequest.richMenuAliasId`). */
export const RICH_MENU_ALIAS_ID = /^[a-z0-9_-]{1,32}$/;
const FALLBACK_KEY = '*';
const TIER_NUMBER = /^[1-9][0-9]{0,5}$/;

/** `raw`: the JSON text of `LINE_RICH_MENUS_BY_TIER`, or the parsed `richMenusByTier` of a channel entry. */
export function parseRichMenusByTier(raw: unknown, where: string): ParsedRichMenus {
  if (raw === undefined || raw === '') return { map: undefined, problems: [] };
  let json = raw;
  if (typeof raw === 'string') {
    try {
      json = JSON.parse(raw);
    } catch {
      return { map: undefined, problems: [`${where} is not valid JSON`] };
    }
  }
  if (!isRecord(json))
    return {
      map: undefined,
      problems: [`${where} must be a JSON object of tier → rich menu, e.g. {"Gold": "richmenu-…"}`],
    };
  const problems: string[] = [];
  const byName = new Map<string, RichMenuRef>();
  const byNumber = new Map<number, RichMenuRef>();
  let fallback: RichMenuRef | undefined;
  for (const [key, value] of Object.entries(json)) {
    const menu = menuRefOf(value);
    if (menu === undefined) {
      problems.push(
        `${where}["${key}"] must be a rich menu id (richmenu- and 32 hex digits) or an alias id (a-z 0-9 _ -, ≤ 32)`,
      );
      continue;
    }
    const tier = key.trim();
    if (tier === FALLBACK_KEY) fallback = menu;
    else if (tier === '') problems.push(`${where}["${key}"]: a tier must be a name or a number`);
    else if (TIER_NUMBER.test(tier)) byNumber.set(Number(tier), menu);
    else if (byName.has(tier.toLowerCase())) problems.push(`${where}["${key}"] names a tier another key names already`);
    else byName.set(tier.toLowerCase(), menu);
  }
  if (problems.length > 0) return { map: undefined, problems };
  return { map: { byName, byNumber, ...(fallback === undefined ? {} : { fallback }) }, problems };
}

function menuRefOf(value: unknown): RichMenuRef | undefined {
  if (typeof value !== 'string') return undefined;
  if (RICH_MENU_ID.test(value)) return { richMenuId: value };
  return RICH_MENU_ALIAS_ID.test(value) ? { aliasId: value } : undefined;
}

/** Every menu the map names (each once), for the cold-start and doctor checks that they exist. */
export function menusOf(map: RichMenusByTier): RichMenuRef[] {
  const all = [...map.byName.values(), ...map.byNumber.values(), ...(map.fallback ? [map.fallback] : [])];
  const seen = new Set<string>();
  return all.filter((menu) => {
    const key = 'richMenuId' in menu ? menu.richMenuId : `alias:${menu.aliasId}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The member's menu: by tier name, else by tier number, else `"*"`; undefined → no per-user menu (the OA default). */
export function menuForTier(map: RichMenusByTier, { tierName, tierNumber }: MemberTier): RichMenuRef | undefined {
  const byName = tierName === undefined ? undefined : map.byName.get(tierName.trim().toLowerCase());
  const byNumber = tierNumber === undefined ? undefined : map.byNumber.get(tierNumber);
  return byName ?? byNumber ?? map.fallback;
}

/** `CAPILLARY_LOYALTY_PROGRAM_ID`: undefined means "the only program, else the first one named". */
export function parseLoyaltyProgramId(raw: string | undefined): { programId?: number; problems: string[] } {
  if (raw === undefined || raw.trim() === '') return { problems: [] };
  const programId = Number(raw.trim());
  return Number.isSafeInteger(programId) && programId > 0
    ? { programId, problems: [] }
    : { problems: ['CAPILLARY_LOYALTY_PROGRAM_ID must be a Capillary loyalty program id (a positive whole number)'] };
}

/** The entry of the program to show: the configured one, else the first (an org with one program has one entry). */
export function chooseProgram<T extends { programId?: number }>(
  entries: readonly T[],
  programId?: number,
): T | undefined {
  return programId === undefined ? entries[0] : entries.find((entry) => entry.programId === programId);
}

export const TIER_EVENTS = ['tierUpgraded', 'tierDowngraded', 'tierRenewed'] as const;
export type TierEventName = (typeof TIER_EVENTS)[number];

/** Where each tier event carries the tier the member now holds (capillary docs "Event schema – tier"). */
const NEW_TIER_FIELD: Record<TierEventName, string> = {
  tierUpgraded: 'upgradedTierNumber',
  tierDowngraded: 'downgradedTierNumber',
  tierRenewed: 'currentTierNumber',
};

export interface TierChange extends MemberTier {
  event: TierEventName;
  customerId: number;
  programId: number;
  tierNumber: number;
  /** when Capillary made the change (epoch ms): orders the changes of one member */
  changedAt: number;
}

/** A tier notification (flat form: `{eventName, createdAt, data}`) as a change to apply, or why it is not one. */
export type TierChangeReading = { change: TierChange } | { ignored: 'other-program' } | { problem: string };

export function isTierEvent(eventName: unknown): eventName is TierEventName {
  return typeof eventName === 'string' && (TIER_EVENTS as readonly string[]).includes(eventName);
}

/** `programId`: CAPILLARY_LOYALTY_PROGRAM_ID; a notification about another program changes no menu. */
export function readTierChange(
  notification: { eventName: TierEventName; createdAt?: unknown; data?: unknown },
  programId?: number,
): TierChangeReading {
  const { eventName, data } = notification;
  if (!isRecord(data)) return { problem: `${eventName} without a data object` };
  const customerId = wholeNumber(isRecord(data.customerIdentifiers) ? data.customerIdentifiers.customerId : undefined);
  const eventProgram = wholeNumber(data.loyaltyProgramId);
  const tierNumber = wholeNumber(data[NEW_TIER_FIELD[eventName]]);
  const changedAt = wholeNumber(notification.createdAt);
  if (customerId === undefined) return { problem: `${eventName} without data.customerIdentifiers.customerId` };
  if (tierNumber === undefined) return { problem: `${eventName} without data.${NEW_TIER_FIELD[eventName]}` };
  if (changedAt === undefined) return { problem: `${eventName} without createdAt` };
  if (eventProgram === undefined) return { problem: `${eventName} without data.loyaltyProgramId` };
  if (programId !== undefined && eventProgram !== programId) return { ignored: 'other-program' };
  const tierName = tierNameOf(data.loyaltyProgramDetails, tierNumber);
  return {
    change: {
      event: eventName,
      customerId,
      programId: eventProgram,
      tierNumber,
      changedAt,
      ...(tierName ? { tierName } : {}),
    },
  };
}

/** The samples carry numbers as JSON floats (`379499720.0`); some producers send them as strings. */
function wholeNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) ? number : undefined;
}

/** `loyaltyProgramDetails.tiers[]` names the tiers (it may be null, as in the older samples). */
function tierNameOf(details: unknown, tierNumber: number): string | undefined {
  const tiers = isRecord(details) && Array.isArray(details.tiers) ? details.tiers : [];
  const tier = tiers.find((entry) => isRecord(entry) && wholeNumber(entry.tierNumber) === tierNumber) as
    Record<string, unknown> | undefined;
  return typeof tier?.tierName === 'string' && tier.tierName.trim() !== '' ? tier.tierName : undefined;
}

/**
 * A change older than the last one applied for the user arrived late (Capillary retries for days, in no promised
 * order): applying it would put back a tier the member has left. Equal times are not stale: the same change again.
 */
export function isStaleTierChange(changedAt: number, lastAppliedAt: number | undefined): boolean {
  return lastAppliedAt !== undefined && changedAt < lastAppliedAt;
}
