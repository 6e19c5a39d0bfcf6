/**
 * LINE engagement in a chaos scenario (issue 21): taps and keywords the users send among their follows, some of
 * them mapped to Capillary behavioural events by the run's rules and some not, redelivered by LINE, and faults on
 * the ingest URL. Its generation and its deliveries live here; scenario.ts and play-scenario.ts only call in.
 */
import fc from 'fast-check';

import type { EngagementSettings } from '../../lib/config/engagement-config';
import { parseEngagementRules } from '../../lib/domain/engagement-rules';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { postbackEvent, redelivery, textMessageEvent } from '../line-event-factory';
import { LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS } from '../standins/behavioural-events-ingest';
import type { FaultRule } from '../standins/standin-kit';
import type { UserHistory } from './scenario';

/** What a user does: two kinds the rules map, two they do not (a tap and a text no rule names). */
export type EngagementKind = 'checkin' | 'stamp' | 'browse' | 'chat';

/** The run's rules: first match wins; `browse` taps and other texts match none. */
export const CHAOS_ENGAGEMENT_RULES = [
  { type: 'postback', data: 'action=checkin*', event: 'line_checkin', attributes: { postback_data: 'postback.data' } },
  { type: 'message', text: 'STAMP', event: 'line_keyword_stamp' },
];
const EVENT_NAME: Record<EngagementKind, string | undefined> = {
  checkin: 'line_checkin',
  stamp: 'line_keyword_stamp',
  browse: undefined,
  chat: undefined,
};

export interface PlannedEngagement {
  /** the history (user and channel) it belongs to, modulo the number of histories */
  history: number;
  kind: EngagementKind;
  /** which of the history's friendships (a follow until the next unfollow) it happens in, modulo their number */
  friendship: number;
  /** how far into that friendship, modulo its length */
  atMs: number;
  lateByMs: number;
  redeliveredAfterMs: number[];
}

export interface EngagementPlan {
  events: PlannedEngagement[];
  /** the n-th message the worker receives from the engagement queue first arms ingestFaults[n] on the ingest URL */
  ingestFaults: (FaultRule | null)[];
}

export const NO_ENGAGEMENT: EngagementPlan = { events: [], ingestFaults: [] };

const ON_INGEST = { pathPrefix: '/webhooks/' };

/**
 * Throttling, 5xx and answers slower than the client waits: the ingest took nothing, so a retry must post. A lost
 * answer (taken, then lost) is left out: no client can tell it from a refusal, and Capillary's uniqueness check is
 * what absorbs its repeat (docs/engagement.md#once).
 */
function ingestFault(timeoutFaultMs: number): fc.Arbitrary<FaultRule> {
  return fc.oneof(
    fc
      .record({
        status: fc.constantFrom(429 as const, 500 as const, 503 as const),
        times: fc.integer({ min: 1, max: 2 }),
      })
      .map((rule) => ({ ...rule, ...ON_INGEST })),
    fc
      .integer({ min: 1, max: 2 })
      .map((times) => ({ kind: 'timeout' as const, times, delayMs: timeoutFaultMs, ...ON_INGEST })),
  );
}

export function engagementPlanArbitrary(shape: {
  histories: number;
  /** engagement events per history, on average */
  perHistory: number;
  redeliveredPercent: number;
  faultPercent: number;
  timeoutFaultMs: number;
  planLength: number;
}): fc.Arbitrary<EngagementPlan> {
  if (shape.perHistory <= 0 || shape.histories === 0) return fc.constant(NO_ENGAGEMENT);
  const count = Math.round(shape.histories * shape.perHistory);
  const planned = fc.record({
    history: fc.nat(shape.histories - 1),
    kind: fc.constantFrom<EngagementKind>('checkin', 'checkin', 'stamp', 'browse', 'chat'),
    friendship: fc.nat(7),
    atMs: fc.integer({ min: 0, max: 6000 }),
    lateByMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
    redeliveredAfterMs: fc.oneof(
      { weight: 100 - shape.redeliveredPercent, arbitrary: fc.constant<number[]>([]) },
      {
        weight: shape.redeliveredPercent,
        arbitrary: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 2 }),
      },
    ),
  });
  const fault = fc.oneof(
    { weight: 100 - shape.faultPercent, arbitrary: fc.constant(null) },
    { weight: shape.faultPercent, arbitrary: ingestFault(shape.timeoutFaultMs) },
  );
  return fc.record({
    events: fc.array(planned, { minLength: count, maxLength: count }),
    ingestFaults: fc.array(fault, { minLength: shape.planLength, maxLength: shape.planLength }),
  });
}

/** One engagement event as sent: whose, on which bot, and the Capillary event a rule maps it to (none: unmapped). */
export interface SentEngagement {
  webhookEventId: string;
  userId: string;
  channel: string;
  destination: string;
  eventName: string | undefined;
}

function engagementEvent(kind: EngagementKind, userId: string, timestamp: number, index: number): LineWebhookEvent {
  if (kind === 'checkin') return postbackEvent(userId, timestamp, `action=checkin&store=${index % 7}`);
  if (kind === 'browse') return postbackEvent(userId, timestamp, `action=browse&item=${index}`);
  return textMessageEvent(userId, timestamp, kind === 'stamp' ? 'STAMP' : 'Hello, is the shop open?');
}

/** After the history's last event, a friend stays one this long (ms) for taps. */
const FRIENDSHIP_AFTER_LAST_EVENT_MS = 3000;

/**
 * When the user was a friend: from each follow (or unblock) to the next unfollow, open-ended after the last one.
 * LINE sends no event of a user who blocked the account, and before the history's first follow nothing is known.
 */
function friendships(history: Pick<UserHistory, 'events' | 'actions'>): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  const last = history.events.at(-1)?.timestamp ?? 0;
  for (const [index, action] of history.actions.entries()) {
    const at = history.events[index]!.timestamp;
    const open = spans.at(-1);
    if ((action === 'follow' || action === 'unblock') && (open === undefined || open.to !== Infinity))
      spans.push({ from: at, to: Infinity });
    else if (action === 'unfollow' && open?.to === Infinity) open.to = at;
  }
  return spans.map((span) => ({ ...span, to: Math.min(span.to, last + FRIENDSHIP_AFTER_LAST_EVENT_MS) }));
}

/**
 * The plan's events on the histories' users and channels, each inside one of its user's friendships (strictly
 * between the follow and the unfollow), with its arrivals (the first and the redeliveries). A user never a friend in
 * the history does nothing.
 */
export function engagementDeliveries(
  plan: EngagementPlan | undefined,
  histories: readonly Pick<UserHistory, 'userId' | 'channel' | 'destination' | 'events' | 'actions'>[],
): { sent: SentEngagement[]; arrivals: { channel: string; at: number; event: LineWebhookEvent }[] } {
  const sent: SentEngagement[] = [];
  const arrivals: { channel: string; at: number; event: LineWebhookEvent }[] = [];
  for (const [index, planned] of (plan?.events ?? []).entries()) {
    const history = histories[planned.history % histories.length];
    if (history === undefined) break;
    const spans = friendships(history).filter((span) => span.to - span.from >= 2);
    const span = spans[planned.friendship % Math.max(spans.length, 1)];
    if (span === undefined) continue;
    const { userId, channel, destination } = history;
    const timestamp = span.from + 1 + (planned.atMs % (span.to - span.from - 1));
    const event = engagementEvent(planned.kind, userId, timestamp, index);
    const first = event.timestamp + planned.lateByMs;
    arrivals.push({ channel, at: first, event });
    for (const after of planned.redeliveredAfterMs)
      arrivals.push({ channel, at: first + after, event: redelivery(event) });
    sent.push({
      webhookEventId: event.webhookEventId,
      userId,
      channel,
      destination,
      eventName: EVENT_NAME[planned.kind],
    });
  }
  return { sent, arrivals };
}

/** The run's rules on every channel, posted to the stand-in's ingest URL with no rate limit of the bridge's own. */
export function chaosEngagementSettings(behaviouralEventsUrl: string, channels: readonly string[]): EngagementSettings {
  const { rules } = parseEngagementRules(CHAOS_ENGAGEMENT_RULES, 'chaos', 'customer_id');
  return {
    rulesByChannel: new Map(channels.map((channel) => [channel, rules])),
    posting: {
      url: behaviouralEventsUrl,
      credentials: LOCAL_BEHAVIOURAL_EVENTS_CREDENTIALS,
      timeZone: 'UTC',
      customerField: 'customer_id',
      rateLimitPerMinute: 1_000_000,
    },
  };
}
