/**
 * A chaos scenario as plain data, so fast-check can generate and shrink it and a seed reproduces it:
 * what each LINE user did (follow / unfollow / unblock / link / unlink, in time order), how LINE delivered
 * it (late, redelivered, split over requests), the attacks on links (a nonce used again, or by another
 * user), and which Capillary faults and worker crashes hit the run.
 */
import fc from 'fast-check';

import type { SubscriptionState } from '../../lib/domain/sync-rules';
import type { LineWebhookEvent } from '../../lib/line/callback';
import { LinkNonceStore } from '../../lib/store/link-nonce-store';
import {
  accountLinkEvent,
  followEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  unfollowEvent,
} from '../line-event-factory';
import type { FirstBulkRecordRejection, FoldedFormRefusal } from '../standins/capillary-standin';
import type { FaultRule } from '../standins/standin-kit';
import {
  engagementDeliveries,
  engagementPlanArbitrary,
  type EngagementPlan,
  type SentEngagement,
} from './engagement-scenario';

export type SyncAction = 'follow' | 'unfollow' | 'unblock';
export type LineAction = SyncAction | 'link' | 'unlink';
/** A second accountLink carrying a link's nonce: from the same user, or from another one (impersonation). */
export type LinkAttack = 'reuse' | 'impersonate';
/** Where the worker dies: a crash around the commit, or a stall that lasts until the Lambda timeout ends the invocation. */
export type CrashPoint = 'before-commit' | 'after-commit' | 'stall-before-commit';

export interface PlannedEvent {
  action: LineAction;
  /** after the user's previous event */
  gapMs: number;
  /** how late LINE delivers the event after it happened: a late event arrives after newer ones */
  lateByMs: number;
  /** each one a redelivery (same webhookEventId), this long after the first delivery */
  redeliveredAfterMs: number[];
  /** links only: the nonce is also sent in another event, this long after the link's arrival */
  attack?: { kind: LinkAttack; afterMs: number } | null;
}

export interface Scenario {
  /** one history per user */
  histories: PlannedEvent[][];
  /** events per webhook request, used in turn */
  requestSizes: number[];
  /** the n-th message the worker receives first arms faults[n] on the Capillary stand-in */
  faults: (ChaosFault | null)[];
  /** the n-th DynamoDB commit crashes or stalls the worker at that point */
  crashes: (CrashPoint | null)[];
  /** taps and texts among the histories, and faults on the ingest URL (engagement-scenario.ts); absent: none */
  engagement?: EngagementPlan;
}

export interface ScenarioShape {
  users: { min: number; max: number };
  eventsPerUser: { min: number; max: number };
  /** share of events LINE delivers more than once */
  redeliveredPercent: number;
  maxRequestSize: number;
  /** share of received messages that arm a fault */
  faultPercent: number;
  /** share of commits that crash or stall */
  crashPercent: number;
  /** a fault that holds the request longer than the worker's Capillary timeout */
  capillaryTimeoutFaultMs: number;
  /** length of the fault and crash plans (receives and commits beyond them run clean) */
  planLength: { min: number; max: number };
  /** weight of link/unlink against 3 for follow/unfollow/unblock (0 or absent: no linking) */
  linkPercent?: number;
  /** engagement events per user history, on average (0 or absent: none) */
  engagementPerHistory?: number;
}

const ACTION_STATE: Record<SyncAction, SubscriptionState> = { follow: 'OPTIN', unblock: 'OPTIN', unfollow: 'OPTOUT' };
export const impliedState = (action: SyncAction): SubscriptionState => ACTION_STATE[action];
export const isSyncAction = (action: LineAction): action is SyncAction => action !== 'link' && action !== 'unlink';

/** Weighted so that shrinking moves towards the first (the harmless) choice. */
const sometimes = <T>(percent: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary });

/**
 * A fault of the stand-in kit, Capillary refusing a folded form of add customer once (as an org without it would),
 * or one record of a bulk upsert rejected.
 */
export type ChaosFault = FaultRule | FoldedFormRefusal | FirstBulkRecordRejection;

/** The worker's bulk registration of a batch's new followers: the whole call refused, its answer lost, one record rejected. */
const bulkUpsertFault: fc.Arbitrary<ChaosFault> = fc.oneof(
  fc.constant({ status: 500 as const, times: 1, pathPrefix: '/v2/integrations/customer/upsert/bulk' }),
  fc.constant({
    kind: 'lost-response' as const,
    reply: 'gateway-timeout' as const,
    times: 1,
    pathPrefix: '/v2/integrations/customer/upsert/bulk',
  }),
  fc.constant({ bulkRecordRejections: 1, code: 8013 }),
);

/**
 * Capillary misbehaving as the docs say it can: throttling, 5xx, slow answers, answers lost after the
 * work was done, and the folded forms of add customer refused (the worker must fall back to separate calls).
 */
export function capillaryFault(timeoutFaultMs: number): fc.Arbitrary<ChaosFault> {
  const onBusinessCalls = { pathPrefix: '/v2/customers' };
  return fc.oneof(
    fc
      .record({
        status: fc.constantFrom(429 as const, 500 as const, 503 as const),
        times: fc.integer({ min: 1, max: 2 }),
      })
      .map((rule) => ({ ...rule, ...onBusinessCalls })),
    fc
      .integer({ min: 1, max: 2 })
      .map((times) => ({ kind: 'timeout' as const, times, delayMs: timeoutFaultMs, ...onBusinessCalls })),
    // a lost add-customer answer: the retry meets 8006 "already exists"
    fc
      .constantFrom('gateway-timeout' as const, 'connection-reset' as const)
      .map((reply) => ({ kind: 'lost-response' as const, reply, times: 1, method: 'POST', ...onBusinessCalls })),
    fc.constantFrom<FoldedFormRefusal>(
      { form: 'subscriptionInfo', answer: 'warning', times: 1 },
      { form: 'subscriptionInfo', answer: 'refused', times: 1 },
      { form: 'severalSources', answer: 'refused', times: 1 },
    ),
    bulkUpsertFault,
  );
}

/** Stalls are rarer: each one holds its message group for a function timeout plus a visibility timeout. */
const crashPoint: fc.Arbitrary<CrashPoint> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('before-commit' as const) },
  { weight: 2, arbitrary: fc.constant('after-commit' as const) },
  { weight: 1, arbitrary: fc.constant('stall-before-commit' as const) },
);

export function scenarioArbitrary(shape: ScenarioShape): fc.Arbitrary<Scenario> {
  const plannedEvent = fc.record({
    action: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<LineAction>('follow', 'unfollow', 'unblock') },
      { weight: shape.linkPercent ?? 0, arbitrary: fc.constantFrom<LineAction>('link', 'link', 'unlink') },
    ),
    attack: sometimes(
      30,
      fc.record({
        kind: fc.constantFrom<LinkAttack>('reuse', 'impersonate'),
        afterMs: fc.integer({ min: 0, max: 3000 }),
      }),
    ),
    gapMs: fc.integer({ min: 1, max: 1000 }),
    lateByMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 })),
    redeliveredAfterMs: fc.oneof(
      { weight: 100 - shape.redeliveredPercent, arbitrary: fc.constant<number[]>([]) },
      {
        weight: shape.redeliveredPercent,
        arbitrary: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 2 }),
      },
    ),
  });
  const planLength = { minLength: shape.planLength.min, maxLength: shape.planLength.max };
  return fc.record({
    histories: fc.array(
      fc.array(plannedEvent, { minLength: shape.eventsPerUser.min, maxLength: shape.eventsPerUser.max }),
      { minLength: shape.users.min, maxLength: shape.users.max },
    ),
    requestSizes: fc.array(fc.integer({ min: 1, max: shape.maxRequestSize }), { minLength: 1, maxLength: 8 }),
    faults: fc.array(sometimes(shape.faultPercent, capillaryFault(shape.capillaryTimeoutFaultMs)), planLength),
    crashes: fc.array(sometimes(shape.crashPercent, crashPoint), planLength),
    engagement: engagementPlanArbitrary({
      histories: shape.users.max,
      perHistory: shape.engagementPerHistory ?? 0,
      redeliveredPercent: shape.redeliveredPercent,
      faultPercent: shape.faultPercent,
      timeoutFaultMs: shape.capillaryTimeoutFaultMs,
      planLength: shape.planLength.max,
    }),
  });
}

export interface ScriptedScenario {
  /** per user, each action with how late LINE delivers it (ms); events are 1 ms apart */
  histories: [LineAction, number][][];
  crashes?: (CrashPoint | null)[];
  eventsPerRequest?: number;
}

/** A scenario written out by hand, for a test about one situation. */
export function scriptedScenario({ histories, crashes = [], eventsPerRequest = 1 }: ScriptedScenario): Scenario {
  return {
    histories: histories.map((history) =>
      history.map(([action, lateByMs]) => ({ action, gapMs: 1, lateByMs, redeliveredAfterMs: [], attack: null })),
    ),
    requestSizes: [eventsPerRequest],
    faults: [],
    crashes,
  };
}

/** A LINE channel as a scenario sees it: channels of one provider see the same user id for the same person. */
export interface ScenarioChannel {
  id: string;
  provider: string;
  destination: string;
}

/** What one LINE user did on one channel. */
export interface UserHistory {
  userId: string;
  channel: string;
  destination: string;
  /** in the order they happened */
  events: LineWebhookEvent[];
  actions: LineAction[];
  /** the user's links, each with the nonce the brand page made for it (issued into the store before delivery) */
  links: { webhookEventId: string; nonce: string }[];
  /** every attack event sent with one of this user's nonces */
  attacks: { kind: LinkAttack; webhookEventId: string; byUserId: string; nonce: string }[];
}

/** One webhook request: LINE sends each channel's events to that channel's URL, in bodies of its own. */
export interface WebhookDelivery {
  channel: string;
  destination: string;
  events: LineWebhookEvent[];
  /** the identity mix: this event goes through the link API instead (no events then), at the event's time */
  apiCall?: { webhookEventId: string; userId: string; timestamp: number };
}

export interface Deliveries {
  /** one history per user and channel */
  users: UserHistory[];
  /** the webhook requests, in the order LINE sends them */
  requests: WebhookDelivery[];
  /** events sent, redeliveries included */
  sent: number;
  redeliveries: number;
  /** accountLink events carrying a nonce already sent (see LinkAttack) */
  attacks: number;
  /** the engagement events, one each (their redeliveries are in `sent` and `redeliveries`) */
  engagement: SentEngagement[];
}

function lineEvent(userId: string, action: LineAction, timestamp: number, nonce: string): LineWebhookEvent {
  if (action === 'link') return accountLinkEvent(userId, timestamp, nonce);
  if (action === 'unlink') return postbackEvent(userId, timestamp, 'action=unlink');
  if (action === 'unfollow') return unfollowEvent(userId, timestamp);
  return followEvent(userId, timestamp, { follow: { isUnblocked: action === 'unblock' } });
}

interface Arrival {
  at: number;
  event: LineWebhookEvent;
}

/**
 * Turns the plan into LINE events and the requests that carry them, ordered by arrival. History i plays on
 * channel i mod n; the i-th history of each channel is one person, so channels of one provider get the same
 * (fresh) user id for it and channels of another provider a different one. Links and unlinks play only where
 * `playsLinks` says (by default a channel alone in its provider: a person with one user id in two channels is not
 * a link case there); elsewhere they become follows and unfollows.
 */
export function deliveriesOf(
  scenario: Scenario,
  channels: readonly ScenarioChannel[],
  startedAt = 1_700_000_000_000,
  playsLinks: (channel: ScenarioChannel) => boolean = (channel) =>
    channels.filter((other) => other.provider === channel.provider).length === 1,
): Deliveries {
  const arrivals = new Map<string, Arrival[]>(channels.map((channel) => [channel.id, []]));
  const personIds = new Map<string, string>();
  const users = scenario.histories.map((history, index): UserHistory => {
    const channel = channels[index % channels.length] as ScenarioChannel;
    const person = `${channel.provider}#${Math.floor(index / channels.length)}`;
    const userId = personIds.get(person) ?? lineUserId();
    personIds.set(person, userId);
    const actions = history.map(({ action }): LineAction =>
      playsLinks(channel) || isSyncAction(action) ? action : action === 'link' ? 'follow' : 'unfollow',
    );
    const user: UserHistory = {
      userId,
      channel: channel.id,
      destination: channel.destination,
      events: [],
      actions,
      links: [],
      attacks: [],
    };
    let timestamp = startedAt;
    for (const [step, planned] of history.entries()) {
      const action = actions[step] as LineAction;
      timestamp += planned.gapMs;
      const nonce = LinkNonceStore.newNonce();
      const event = lineEvent(userId, action, timestamp, nonce);
      const firstArrival = timestamp + planned.lateByMs;
      const channelArrivals = arrivals.get(channel.id) as Arrival[];
      channelArrivals.push({ at: firstArrival, event });
      for (const after of planned.redeliveredAfterMs)
        channelArrivals.push({ at: firstArrival + after, event: redelivery(event) });
      user.events.push(event);
      if (action !== 'link') continue;
      user.links.push({ webhookEventId: event.webhookEventId, nonce });
      if (!planned.attack) continue;
      // Same timestamp as the link: whichever comes first, the other is stale or refused; the user's own order is
      // untouched. The impersonator is another LINE user of the same channel.
      const byUserId = planned.attack.kind === 'reuse' ? userId : lineUserId();
      const attack = accountLinkEvent(byUserId, timestamp, nonce);
      channelArrivals.push({ at: firstArrival + planned.attack.afterMs, event: attack });
      user.attacks.push({ kind: planned.attack.kind, webhookEventId: attack.webhookEventId, byUserId, nonce });
    }
    return user;
  });
  const engagement = engagementDeliveries(scenario.engagement, users);
  for (const { channel, ...arrival } of engagement.arrivals) arrivals.get(channel)?.push(arrival);
  const timed: { at: number; request: WebhookDelivery }[] = [];
  let sizeIndex = 0;
  for (const channel of channels) {
    const channelArrivals = (arrivals.get(channel.id) as Arrival[]).sort((a, b) => a.at - b.at); // stable: same-instant arrivals keep their order
    for (let next = 0; next < channelArrivals.length;) {
      const size = scenario.requestSizes[sizeIndex++ % scenario.requestSizes.length] ?? 1;
      const carried = channelArrivals.slice(next, next + size);
      timed.push({
        at: carried[0]!.at,
        request: { channel: channel.id, destination: channel.destination, events: carried.map(({ event }) => event) },
      });
      next += size;
    }
  }
  const requests = timed.sort((a, b) => a.at - b.at).map(({ request }) => request);
  const sent = [...arrivals.values()].reduce((sum, list) => sum + list.length, 0);
  const attacks = users.reduce((sum, user) => sum + user.attacks.length, 0);
  return {
    users,
    requests,
    sent,
    redeliveries: sent - attacks - engagement.sent.length - users.reduce((sum, user) => sum + user.events.length, 0),
    attacks,
    engagement: engagement.sent,
  };
}
