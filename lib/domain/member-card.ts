/**
 * The "my points" answer (docs/loyalty.md#member-card): one Flex bubble with the member's points, tier, next expiring
 * points and the gap to the next tier, each line left out when Capillary gave no value; and the short "try again"
 * text for when Capillary cannot answer. Pure: the texts are settings with placeholders, English by default,
 * overridden per channel for its language.
 */
import { isRecord } from '../is-record';

/** What Capillary says about the member; only `points` is always there. */
export interface MemberLoyalty {
  points: number;
  tierName?: string;
  expiringPoints?: number;
  /** YYYY-MM-DD, as Capillary gives it */
  expiryDate?: string;
  gapToNextTier?: number;
}

export interface MemberCardTexts {
  title: string;
  points: string;
  tier: string;
  expiring: string;
  gapToNextTier: string;
  /** what notifications and chat lists show instead of the card */
  altText: string;
  /** the answer when Capillary is slow or failing */
  tryAgain: string;
}

type Placeholder = 'points' | 'tier' | 'expiringPoints' | 'expiryDate' | 'gapToNextTier';

/** The placeholders each text may use: a line is shown only when each of its values is known. */
const PLACEHOLDERS: Record<keyof MemberCardTexts, readonly Placeholder[]> = {
  title: [],
  points: ['points'],
  tier: ['tier'],
  expiring: ['expiringPoints', 'expiryDate'],
  gapToNextTier: ['gapToNextTier'],
  altText: ['points'],
  tryAgain: [],
};

export const DEFAULT_MEMBER_CARD_TEXTS: Readonly<MemberCardTexts> = {
  title: 'My points',
  points: '{points} points',
  tier: 'Tier: {tier}',
  expiring: '{expiringPoints} points expire on {expiryDate}',
  gapToNextTier: '{gapToNextTier} more to reach the next tier',
  altText: 'You have {points} points',
  tryAgain: 'We cannot show your points right now. Please try again in a moment.',
};

/** LINE's limit for a Flex message's altText is larger today; 400 is the limit every message type has kept. */
export const ALT_TEXT_MAX_CHARS = 400;
const TEXT_MAX_CHARS = 1000;
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** The texts of a setting (a JSON object of some texts), or every problem, each naming its text. */
export function parseMemberCardTexts(
  raw: unknown,
  where: string,
): { texts: Partial<MemberCardTexts>; problems: string[] } {
  if (raw === undefined) return { texts: {}, problems: [] };
  if (!isRecord(raw)) return { texts: {}, problems: [`${where} must be a JSON object of texts, e.g. {"title": "…"}`] };
  const problems: string[] = [];
  const texts: Partial<MemberCardTexts> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!(name in PLACEHOLDERS)) {
      problems.push(
        `${where}.${name} is not a text of the member card (known: ${Object.keys(PLACEHOLDERS).join(', ')})`,
      );
      continue;
    }
    const allowed = PLACEHOLDERS[name as keyof MemberCardTexts];
    if (typeof value !== 'string' || value.trim() === '' || value.length > TEXT_MAX_CHARS) {
      problems.push(`${where}.${name} must be a non-empty text of at most ${TEXT_MAX_CHARS} characters`);
      continue;
    }
    const unknown = [...value.matchAll(PLACEHOLDER)]
      .map(([, found]) => found)
      .filter((f) => !allowed.includes(f as Placeholder));
    if (unknown.length > 0)
      problems.push(
        `${where}.${name} uses {${unknown.join('}, {')}}; it may use ${allowed.length ? `{${allowed.join('}, {')}}` : 'no placeholder'}`,
      );
    else texts[name as keyof MemberCardTexts] = value;
  }
  return { texts: problems.length === 0 ? texts : {}, problems };
}

/** The defaults, then each override in turn (the org's settings, then the channel's language). */
export function memberCardTexts(...overrides: (Partial<MemberCardTexts> | undefined)[]): MemberCardTexts {
  return Object.assign({ ...DEFAULT_MEMBER_CARD_TEXTS }, ...overrides) as MemberCardTexts;
}

/** Points as a number grouped by thousands (12,345), up to two decimals for programs with fractional points. */
export function formatPoints(points: number): string {
  return points.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** The text with its placeholders filled, or undefined when a value it needs is unknown. */
function fill(template: string, values: Partial<Record<Placeholder, string>>): string | undefined {
  let missing = false;
  const text = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name as Placeholder];
    if (value === undefined) missing = true;
    return value ?? whole;
  });
  return missing ? undefined : text;
}

const line = (text: string, style: Record<string, unknown>) => ({ type: 'text', text, wrap: true, ...style });

/** A Flex message for the reply or push; `loyalty` never reaches a log (points and tiers are personal). */
export function memberCardMessage(loyalty: MemberLoyalty, texts: MemberCardTexts): Record<string, unknown> {
  const points = formatPoints(loyalty.points);
  const values: Partial<Record<Placeholder, string>> = {
    points,
    ...(loyalty.tierName?.trim() ? { tier: loyalty.tierName.trim() } : {}),
    ...(loyalty.expiringPoints !== undefined && loyalty.expiringPoints > 0
      ? { expiringPoints: formatPoints(loyalty.expiringPoints) }
      : {}),
    ...(loyalty.expiryDate ? { expiryDate: loyalty.expiryDate } : {}),
    ...(loyalty.gapToNextTier !== undefined && loyalty.gapToNextTier > 0
      ? { gapToNextTier: formatPoints(loyalty.gapToNextTier) }
      : {}),
  };
  const details = [
    [fill(texts.tier, values), { size: 'md', weight: 'bold' }],
    [fill(texts.expiring, values), { size: 'sm', color: '#B23B3B' }],
    [fill(texts.gapToNextTier, values), { size: 'sm', color: '#555555' }],
  ].flatMap(([text, style]) => (typeof text === 'string' ? [line(text, style as Record<string, unknown>)] : []));
  // Texts set in code rather than parsed could name a placeholder without a value: the card still goes out.
  const altText = fill(texts.altText, values) ?? texts.title;
  return {
    type: 'flex',
    altText: altText.length > ALT_TEXT_MAX_CHARS ? `${altText.slice(0, ALT_TEXT_MAX_CHARS - 1)}…` : altText,
    contents: {
      type: 'bubble',
      size: 'kilo',
      body: {
        type: 'box',
        layout: 'vertical',
        spacing: 'md',
        contents: [
          line(texts.title, { size: 'sm', color: '#888888', weight: 'bold' }),
          line(fill(texts.points, values) ?? points, { size: 'xxl', weight: 'bold' }),
          ...(details.length > 0 ? [{ type: 'separator' }, ...details] : []),
        ],
      },
    },
  };
}

export function tryAgainMessage(texts: MemberCardTexts): Record<string, unknown> {
  return { type: 'text', text: texts.tryAgain };
}
