/**
 * What a queued event is for: which kind of work takes it, decided from the event's facts alone. Pure.
 *
 * Each kind of work is one case of EventRoute and one module under lib/worker (sync/, link/, identity/); a new kind
 * of work adds a case here, its rule in routeOf, and its module beside them.
 */
import type { LineWebhookEvent } from '../line/callback';
import { matchEngagement, type EngagementLineEvent, type EngagementRule } from './engagement-rules';
import {
  BRIDGE_REATTACH_TYPE,
  CAPILLARY_DELETE_TYPE,
  CAPILLARY_MERGE_TYPE,
  identityNoticeOf,
  reattachRequestOf,
  type IdentityNotice,
  type ReattachRequest,
} from './identity-rules';
import { BRIDGE_LINK_TYPE, BRIDGE_UNLINK_TYPE, type ChatLinkSettings } from './link-rules';
import { asksForPoints, type PointsTriggers } from './points-trigger';
import type { LineEventFacts } from './sync-rules';
import { queuedTierNoticeOf, type TierNotice } from './tier-rules';

/** Everything the router and the kinds of work read from a queued event, taken from it once. */
export interface EventFacts extends Omit<LineEventFacts, 'lane'> {
  /** `user` in a one-to-one chat; `group` / `room` elsewhere */
  sourceType?: string;
  replyToken?: string;
  /** accountLink: `ok` or `failed` */
  linkResult?: string;
  nonce?: string;
  postbackData?: string;
  /** a text message's text */
  text?: string;
  /** bridge.unlink by customer: the member the link API found linked; another member is not unlinked */
  unlinkMemberId?: number;
  /** a Capillary identity event's notice (domain/identity-rules) */
  identity?: IdentityNotice;
  /** a Capillary tier change's notice (domain/tier-rules) */
  tier?: TierNotice;
  /** the drift check's reattach repair (domain/identity-rules) */
  reattach?: ReattachRequest;
}

/** The steps of linking (domain/link-rules), each on the user's record in the link lane. */
type LinkWork =
  /** the user asked in chat: issue a link token and answer with the brand's page */
  | { kind: 'start-link' }
  /** a nonce to resolve: LINE's accountLink ok, or the link API's verified ID token */
  | { kind: 'complete-link'; nonce: string | undefined; via: 'accountLink' | 'id-token' }
  /** a postback in chat (answered there), or the link API's bridge.unlink (no chat to answer in) */
  | { kind: 'unlink'; answerInChat: boolean; memberId?: number };
/** a link in another channel of the provider: this channel's LINE profile moves to that member too */

export type EventRoute =
  /** follow / unfollow: the user's subscription in Capillary (domain/sync-rules) */
  | { kind: 'sync'; userId: string; lane: 'sync' }
  | (LinkWork & { userId: string; lane: 'link' })
  /** Capillary merged or deleted a customer this user's record names (domain/identity-rules) */
  | { kind: 'identity'; notice: IdentityNotice; userId: string; lane: 'identity' }
  | { kind: 'tier'; notice: TierNotice; userId: string; lane: 'loyalty' } // a member's tier changed: its menu
  | { kind: 'points'; userId: string } // "my points" in a one-to-one chat: answered there, the record unchanged
  /** the drift check puts the LINE profile back on the record's customer: it moves a LINE profile, as a link does */
  | { kind: 'reattach'; request: ReattachRequest; userId: string; lane: 'link' }
  /** a tap, beacon, membership … a rule maps (domain/engagement-rules): one Capillary behavioural event, posted once */
  | { kind: 'engagement'; userId: string; lane: 'engagement'; rule: EngagementRule }
  /** a link event with no user to link: LINE's failed accountLink (no source, no reply token), or no user id */
  | { kind: 'link-refused'; reason: 'failed-at-line' | 'no-user-id' }
  /** no kind of work takes it: acknowledged and counted */
  | { kind: 'ignored'; reason: IgnoreReason };

/** The routes whose work changes one user's record: the worker claims the record in `lane` first. */
export type RecordRoute = Extract<EventRoute, { lane: unknown }>;

export type IgnoreReason = 'unsupported-type' | 'no-user-id';

/** The event types the follow/unfollow rules (domain/sync-rules) apply to. */
const SYNCED_TYPES = new Set(['follow', 'unfollow']);

/** Event types that never touch Capillary are acknowledged and counted, nothing more. */
export function ignoreReason(event: Pick<LineEventFacts, 'type' | 'userId'>): IgnoreReason | undefined {
  if (!SYNCED_TYPES.has(event.type)) return 'unsupported-type';
  if (!event.userId) return 'no-user-id';
  return undefined;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function eventFactsOf(event: LineWebhookEvent): EventFacts {
  const link = event.link as { result?: unknown; nonce?: unknown } | undefined;
  const postback = event.postback as { data?: unknown } | undefined;
  const message = event.message as { type?: unknown; text?: unknown } | undefined;
  const unlinkOf = event.unlink as { memberId?: unknown } | undefined;
  return {
    type: event.type,
    webhookEventId: event.webhookEventId,
    timestamp: event.timestamp,
    userId: event.source?.userId,
    isUnblocked: event.follow?.isUnblocked,
    sourceType: event.source?.type,
    replyToken: text(event.replyToken),
    linkResult: text(link?.result),
    nonce: text(link?.nonce),
    postbackData: text(postback?.data),
    text: message?.type === 'text' ? text(message.text) : undefined,
    unlinkMemberId: typeof unlinkOf?.memberId === 'number' ? unlinkOf.memberId : undefined,
    identity: IDENTITY_TYPES.has(event.type) ? identityNoticeOf(event.type, event.capillary) : undefined,
    tier: queuedTierNoticeOf(event.type, event.capillary),
    reattach: event.type === (BRIDGE_REATTACH_TYPE as string) ? reattachRequestOf(event.reattach) : undefined,
  };
}

const IDENTITY_TYPES = new Set([CAPILLARY_MERGE_TYPE, CAPILLARY_DELETE_TYPE]);

/** A channel's engagement rules and the event as queued, which they read by path. */
export interface EngagementInput {
  rules: readonly EngagementRule[];
  event: EngagementLineEvent;
}

/**
 * Capillary's changes and the drift check's repairs (the bridge's own event types), then linking (its postbacks and
 * texts would otherwise be ignored or mapped), "my points", the engagement rules (none: off), follow/unfollow.
 */
export function routeOf(
  facts: EventFacts,
  chat: ChatLinkSettings,
  engagement?: EngagementInput,
  points?: PointsTriggers,
): EventRoute {
  if (facts.identity !== undefined && facts.userId !== undefined)
    return { kind: 'identity', notice: facts.identity, userId: facts.userId, lane: 'identity' };
  if (facts.tier !== undefined && facts.userId !== undefined)
    return { kind: 'tier', notice: facts.tier, userId: facts.userId, lane: 'loyalty' };
  if (facts.reattach !== undefined && facts.userId !== undefined)
    return { kind: 'reattach', request: facts.reattach, userId: facts.userId, lane: 'link' };
  const link = linkRouteOf(facts, chat);
  if (link !== undefined) return link;
  if (points !== undefined && facts.userId !== undefined && asksForPoints(facts, points))
    return { kind: 'points', userId: facts.userId };
  const rule =
    engagement && facts.userId !== undefined ? matchEngagement(engagement.rules, engagement.event) : undefined;
  if (rule !== undefined) return { kind: 'engagement', userId: facts.userId as string, lane: 'engagement', rule };
  const ignored = ignoreReason(facts);
  if (ignored !== undefined) return { kind: 'ignored', reason: ignored };
  return { kind: 'sync', userId: facts.userId as string, lane: 'sync' };
}

function linkRouteOf(facts: EventFacts, chat: ChatLinkSettings): EventRoute | undefined {
  switch (facts.type) {
    case 'accountLink':
      return facts.linkResult === 'ok'
        ? ofUser(facts, { kind: 'complete-link', nonce: facts.nonce, via: 'accountLink' })
        : { kind: 'link-refused', reason: 'failed-at-line' };
    case BRIDGE_LINK_TYPE:
      return ofUser(facts, { kind: 'complete-link', nonce: facts.nonce, via: 'id-token' });
    case BRIDGE_UNLINK_TYPE:
      return ofUser(facts, {
        kind: 'unlink',
        answerInChat: false,
        ...(facts.unlinkMemberId === undefined ? {} : { memberId: facts.unlinkMemberId }),
      });
    case 'postback':
      // Only in a one-to-one chat: a link button posted to a group would be the user's link token in public.
      if (facts.sourceType !== 'user') return undefined;
      if (facts.postbackData === chat.linkPostbackData) return ofUser(facts, { kind: 'start-link' });
      return facts.postbackData === chat.unlinkPostbackData
        ? ofUser(facts, { kind: 'unlink', answerInChat: true })
        : undefined;
    case 'message':
      return facts.sourceType === 'user' &&
        chat.linkKeyword !== undefined &&
        facts.text?.trim().toLowerCase() === chat.linkKeyword.trim().toLowerCase()
        ? ofUser(facts, { kind: 'start-link' })
        : undefined;
    default:
      return undefined;
  }
}

/** A link step needs the user's record; an event without a user id has none. */
function ofUser(facts: EventFacts, work: LinkWork): EventRoute {
  return facts.userId === undefined
    ? { kind: 'link-refused', reason: 'no-user-id' }
    : { ...work, userId: facts.userId, lane: 'link' };
}
