/**
 * "A flood of taps never slows follows" (issue 21) as a chaos run can see it. A mapped tap claims its user's record
 * on a queue of its own, so the follows and unfollows of people who tap are the ones it could hold up: their time
 * from the webhook accepting them to their first settlement is set against that of the people who never tap, in the
 * same run, under the same crashes and faults.
 */
import { percentile } from '../percentile';
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
 */
export function followDelays(
  users: readonly Pick<UserHistory, 'userId' | 'channel' | 'events'>[],
  tappers: ReadonlySet<string>,
  acceptedAt: ReadonlyMap<string, number>,
  settledAt: ReadonlyMap<string, number>,
): FollowDelayFigures {
  const delays = { withTaps: [] as number[], withoutTaps: [] as number[] };
  for (const user of users) {
    const group = tappers.has(historyKey(user)) ? delays.withTaps : delays.withoutTaps;
    for (const { type, webhookEventId } of user.events) {
      const [accepted, settled] = [acceptedAt.get(webhookEventId), settledAt.get(webhookEventId)];
      if (SYNC_TYPES.has(type) && accepted !== undefined && settled !== undefined) group.push(settled - accepted);
    }
  }
  const withoutTaps = figuresOf(delays.withoutTaps);
  const pastUsualP99 = delays.withTaps.filter((delay) => delay > withoutTaps.p99Ms).length;
  return { withTaps: figuresOf(delays.withTaps), withoutTaps, pastUsualP99 };
}

function figuresOf(delays: number[]): DelayFigures {
  if (delays.length === 0) return { count: 0, p50Ms: 0, p99Ms: 0 };
  return { count: delays.length, p50Ms: percentile(delays, 0.5), p99Ms: percentile(delays, 0.99) };
}

/** Both groups were seen, and no more of the tappers' follows than chance allows took longer than the usual p99. */
export function tapsSlowedNoFollow({ withTaps, withoutTaps, pastUsualP99 }: FollowDelayFigures): boolean {
  if (withTaps.count === 0 || withoutTaps.count === 0) return false;
  const { share, atLeast } = PAST_USUAL_P99_ALLOWED;
  return pastUsualP99 <= Math.max(Math.ceil(withTaps.count * share), atLeast);
}

export function followDelayRows({ withTaps, withoutTaps, pastUsualP99 }: FollowDelayFigures): TableRow[] {
  const row = (figures: DelayFigures) => `${figures.p50Ms} / ${figures.p99Ms} (${figures.count})`;
  return [
    ['follow/unfollow ms to settled, p50 / p99 (count): people who tap', row(withTaps)],
    ['  people who never tap', row(withoutTaps)],
    ["  follows of people who tap slower than the others' p99", pastUsualP99],
  ];
}
