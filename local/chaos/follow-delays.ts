/**
 * "A flood of taps never slows follows" (issue 21) as a chaos run can see it. Taps have a queue of their own, and
 * claim their user's record only to register a user with no customer; so the one way a tap holds a follow or
 * unfollow up is a claim it takes, and the check that CI runs counts those: a follow turned back by the claim of a
 * tap whose user already had a customer is a fault. The follows' times from the webhook accepting them to their
 * first settlement, people who tap against people who never tap, are printed too; being times on a shared machine
 * they are judged only by the full run (`npm run chaos`), never by a test.
 */
import { percentile } from '../percentile';
import type { StoreWrite } from './crashing-worker';
import type { TableRow } from './report-table';
import type { UserHistory } from './scenario';

export interface DelayFigures {
  /** follows and unfollows settled */
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface FollowDelayFigures {
  /** people with at least one mapped tap */
  withTaps: DelayFigures;
  withoutTaps: DelayFigures;
  /** follows and unfollows of people who tap that took longer than the p99 of people who never tap */
  pastUsualP99: number;
  /** attempts of follows and unfollows turned back by a tap's claim: any, and of a tap whose user had a customer */
  turnedBackByTaps: { any: number; customerKnown: number };
}

/** A failed attempt, with the event whose claim turned it back (ClaimHeldError). */
export interface TurnedBack {
  webhookEventId: string | undefined;
  heldBy?: string;
}

/**
 * How many of the tappers' follows may take longer than the usual p99. Were taps no hindrance, about 1 % would, by
 * chance (a crash or a fault can land on anyone's follow); a hindrance shows as many more. Comparing the two p99s
 * instead failed on a loaded machine: each is the slowest handful of events.
 */
export const PAST_USUAL_P99_ALLOWED = { share: 0.05, atLeast: 3 };

const SYNC_TYPES = new Set(['follow', 'unfollow']);

export const historyKey = ({ userId, channel }: { userId: string; channel: string }): string => `${channel}|${userId}`;

/**
 * @param tappers `historyKey`s of the people who sent a mapped tap
 * @param acceptedAt webhook event id → when the webhook first answered 200 for it
 * @param settledAt webhook event id → its first settlement that was not a failure
 * @param claims taps: webhook event id of each tap that claimed its user's record → whether the user had a customer
 */
export function followDelays(
  users: readonly Pick<UserHistory, 'userId' | 'channel' | 'events'>[],
  tappers: ReadonlySet<string>,
  { acceptedAt, settledAt }: { acceptedAt: ReadonlyMap<string, number>; settledAt: ReadonlyMap<string, number> },
  { attempts, tapClaims }: { attempts: readonly TurnedBack[]; tapClaims: ReadonlyMap<string, boolean> },
): FollowDelayFigures {
  const delays = { withTaps: [] as number[], withoutTaps: [] as number[] };
  const syncEvents = new Set<string>();
  for (const user of users) {
    const group = tappers.has(historyKey(user)) ? delays.withTaps : delays.withoutTaps;
    for (const { type, webhookEventId } of user.events) {
      const [accepted, settled] = [acceptedAt.get(webhookEventId), settledAt.get(webhookEventId)];
      if (SYNC_TYPES.has(type)) syncEvents.add(webhookEventId);
      if (SYNC_TYPES.has(type) && accepted !== undefined && settled !== undefined) group.push(settled - accepted);
    }
  }
  const withoutTaps = figuresOf(delays.withoutTaps);
  const pastUsualP99 = delays.withTaps.filter((delay) => delay > withoutTaps.p99Ms).length;
  const byTaps = attempts.filter(
    ({ webhookEventId, heldBy }) =>
      webhookEventId !== undefined && syncEvents.has(webhookEventId) && heldBy !== undefined && tapClaims.has(heldBy),
  );
  const turnedBackByTaps = {
    any: byTaps.length,
    customerKnown: byTaps.filter(({ heldBy }) => tapClaims.get(heldBy!) === true).length,
  };
  return { withTaps: figuresOf(delays.withTaps), withoutTaps, pastUsualP99, turnedBackByTaps };
}

function figuresOf(delays: number[]): DelayFigures {
  if (delays.length === 0) return { count: 0, p50Ms: 0, p99Ms: 0 };
  return { count: delays.length, p50Ms: percentile(delays, 0.5), p99Ms: percentile(delays, 0.99) };
}

/** Each claim a tap took: its event id → whether its user had a customer then (the record the claim replaced). */
export function tapClaims(storeWrites: readonly StoreWrite[]): Map<string, boolean> {
  const claims = new Map<string, boolean>();
  for (const { kind, lane, webhookEventId, before } of storeWrites)
    if (kind === 'claim' && lane === 'engagement')
      claims.set(webhookEventId, claims.get(webhookEventId) === true || before?.customerId !== undefined);
  return claims;
}

/** No follow or unfollow was turned back by a tap that had no need of the record. */
export const tapsTurnedBackNoFollowOfACustomer = ({ turnedBackByTaps }: FollowDelayFigures): boolean =>
  turnedBackByTaps.customerKnown === 0;

/** Both groups were seen, and no more of the tappers' follows than chance allows took longer than the usual p99. */
export function tapsSlowedNoFollow({ withTaps, withoutTaps, pastUsualP99 }: FollowDelayFigures): boolean {
  if (withTaps.count === 0 || withoutTaps.count === 0) return false;
  const { share, atLeast } = PAST_USUAL_P99_ALLOWED;
  return pastUsualP99 <= Math.max(Math.ceil(withTaps.count * share), atLeast);
}

export function followDelayRows({
  withTaps,
  withoutTaps,
  pastUsualP99,
  turnedBackByTaps,
}: FollowDelayFigures): TableRow[] {
  const row = (figures: DelayFigures) => `${figures.p50Ms} / ${figures.p99Ms} (${figures.count})`;
  return [
    ['follow/unfollow ms to settled, p50 / p99 (count): people who tap', row(withTaps)],
    ['  people who never tap', row(withoutTaps)],
    ["  follows of people who tap slower than the others' p99", pastUsualP99],
    [
      'follow/unfollow attempts turned back by a tap claim (of those, the user had a customer)',
      `${turnedBackByTaps.any} (${turnedBackByTaps.customerKnown})`,
    ],
  ];
}
