/**
 * The settings of loyalty in LINE (docs/loyalty.md): per channel, the rich menu of each tier and the member card's
 * texts in the channel's language; for the deployment, the program to show, the chat triggers of "my points" and
 * the org's card texts. Every problem names its setting (and key), never a value.
 */
import { parseLoyaltyProgramId, parseRichMenusByTier, type RichMenusByTier } from '../domain/loyalty-rules';
import { parseMemberCardTexts, type MemberCardTexts } from '../domain/member-card';
import type { PointsTriggers } from '../domain/points-trigger';
import { DEFAULTS } from './defaults';
import type { EnvReader, ProblemLog } from './env-reader';
import { jsonProblem } from './json-list';

/** One channel's loyalty settings: without a map its members keep the account's default menu. */
export interface ChannelLoyalty {
  richMenusByTier?: RichMenusByTier;
  memberCardTexts?: Partial<MemberCardTexts>;
}

/** POINTS_POSTBACK_DATA, POINTS_KEYWORD (optional, matched without regard to case) */
export interface LoyaltySettings extends PointsTriggers {
  /** CAPILLARY_LOYALTY_PROGRAM_ID; undefined = the only program, else the first one named */
  programId?: number;
  /** MEMBER_CARD_TEXTS: the org's texts, under each channel's own */
  memberCardTexts: Partial<MemberCardTexts>;
}

export function readLoyaltySettings(read: EnvReader): LoyaltySettings {
  const { programId, problems } = parseLoyaltyProgramId(read.optional('CAPILLARY_LOYALTY_PROGRAM_ID'));
  report(read, 'CAPILLARY_LOYALTY_PROGRAM_ID', problems);
  return {
    ...(programId === undefined ? {} : { programId }),
    ...readPointsTriggers(read),
    memberCardTexts: cardTextsOf(jsonSetting(read, 'MEMBER_CARD_TEXTS'), 'MEMBER_CARD_TEXTS', read) ?? {},
  };
}

/** What asks for "my points" in chat: the worker answers it, the webhook keeps it off the engagement queue. */
export function readPointsTriggers(read: EnvReader): PointsTriggers {
  const pointsKeyword = read.optional('POINTS_KEYWORD');
  return {
    pointsPostbackData: read.optional('POINTS_POSTBACK_DATA') ?? DEFAULTS.POINTS_POSTBACK_DATA,
    ...(pointsKeyword === undefined ? {} : { pointsKeyword }),
  };
}

/** The single channel's map: `LINE_RICH_MENUS_BY_TIER` (a JSON object). */
export function readSingleChannelLoyalty(read: EnvReader): { loyalty?: ChannelLoyalty } {
  const richMenusByTier = menusOf(read.optional('LINE_RICH_MENUS_BY_TIER'), 'LINE_RICH_MENUS_BY_TIER', read);
  return richMenusByTier === undefined ? {} : { loyalty: { richMenusByTier } };
}

/** `richMenusByTier` and `memberCardTexts` of a channel entry; `where` names the entry. */
export function channelLoyaltyOf(entry: unknown, where: string, log: ProblemLog): { loyalty?: ChannelLoyalty } {
  const fields = entry as { richMenusByTier?: unknown; memberCardTexts?: unknown };
  const richMenusByTier = menusOf(fields.richMenusByTier, `${where}: richMenusByTier`, log);
  const memberCardTexts = cardTextsOf(fields.memberCardTexts, `${where}: memberCardTexts`, log);
  const loyalty: ChannelLoyalty = {
    ...(richMenusByTier === undefined ? {} : { richMenusByTier }),
    ...(memberCardTexts === undefined ? {} : { memberCardTexts }),
  };
  return Object.keys(loyalty).length === 0 ? {} : { loyalty };
}

function menusOf(raw: unknown, where: string, log: ProblemLog): RichMenusByTier | undefined {
  const { map, problems } = parseRichMenusByTier(raw, where);
  report(log, where, problems);
  return map;
}

function cardTextsOf(raw: unknown, where: string, log: ProblemLog): Partial<MemberCardTexts> | undefined {
  if (raw === undefined) return undefined;
  const { texts, problems } = parseMemberCardTexts(raw, where);
  report(log, where, problems);
  return texts;
}

function jsonSetting(read: EnvReader, name: string): unknown {
  const raw = read.optional(name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    read.problem(name, jsonProblem(error));
    return undefined;
  }
}

/** The rules' problems each start with `where` (and a key): the log joins name and message with a space again. */
function report(log: ProblemLog, where: string, problems: readonly string[]): void {
  for (const problem of problems) {
    const split = problem.indexOf(' ', where.length);
    log.problem(problem.slice(0, split), problem.slice(split + 1));
  }
}
