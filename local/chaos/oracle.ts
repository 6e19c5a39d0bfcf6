/**
 * What must hold for every LINE user on every channel once the queue is drained, checked against
 * Capillary's own state (the stand-in) and the bridge's DynamoDB record (one per bot and user):
 * - state: Capillary's LINE subscription in the channel's account is the one implied by the user's newest
 *   event on that channel, and DynamoDB recorded that event. A user whose newest event is an unfollow may
 *   have no customer at all, or (when another channel of the provider registered them) no subscription in
 *   this account: an unfollow never registers anyone, and a follow overtaken by a newer unfollow is skipped
 *   as stale. Such a user counts as OPTOUT.
 * - duplicate: at most one Capillary customer holds the user's LINE id or externalId (channels of one
 *   provider share the user id, so the person's LINE profiles must all be on that one customer).
 * - stale: no subscription call went "back". The customer's subscription history, in call order, must
 *   follow the user's events in time order (a call may repeat, a retry, but never return to an older
 *   event), and no claim (what permits Capillary calls) went to an event not newer than another of its lane
 *   that was granted one and not released (a refused link), whatever became of that claim since (expired, taken
 *   over by another lane). Claims are read from the workers' journals and from each claim's before-image, which
 *   shows DynamoDB's own record of claims and commits a worker made but never journaled.
 * - reapplied: no claim went to an event already committed, so the only repeated Capillary calls are
 *   the retries of an event whose worker died before recording it.
 * - link (users who link or unlink): a user whose newest effective link-lane action is a link has their
 *   LINE profile on their member, and only there, with the state of their newest follow/unfollow; after
 *   an unlink the member no longer holds it. A LINE id is never on another user's member. A link is
 *   effective when its nonce was consumed by its own event (or the same user's reuse of it); a nonce
 *   burnt by an impersonation attempt links nobody.
 * - nonce: no nonce completed two links.
 */
import {
  claimLaneOf,
  EVENT_LANES,
  LANE_ORDER,
  lastApplied,
  type EventLane,
  type UserSyncState,
} from '../../lib/domain/sync-rules';
import { subscriptionOf, type CapillaryState, type CustomerSnapshot } from '../standins/capillary-standin';
import type { StoreWrite } from './crashing-worker';
import { impliedState, isSyncAction, type SyncAction, type UserHistory } from './scenario';

/** `engagement`: local/chaos/engagement-oracle.ts; `identity`: local/chaos/identity-oracle.ts */
export type ProblemKind =
  'state' | 'duplicate' | 'stale' | 'reapplied' | 'link' | 'nonce' | 'engagement' | 'identity' | 'dead-letter';

export interface UserProblem {
  userId: string;
  channel: string;
  kind: ProblemKind;
  detail: string;
}

export interface OracleInputs {
  users: UserHistory[];
  capillary: CapillaryState;
  /** the DynamoDB record of each user, by recordKey */
  records: Map<string, UserSyncState | undefined>;
  storeWrites: StoreWrite[];
  /** each channel's Capillary account */
  lineAccountIds: Record<string, string>;
  externalIdPrefix: string;
  /** the member customer id of each user who links, by recordKey */
  members: Map<string, number>;
  /** the event that consumed each nonce (undefined: never consumed) */
  nonceConsumers: Map<string, string | undefined>;
  /** the events whose outcome was "linked" */
  linkedEventIds: string[];
  /**
   * The identity mix is on: identity-oracle.ts judges customers, links and subscriptions (merges, deletions and
   * link targets are beyond this file's model); here only each record's sync lane and claims are judged.
   */
  identityMix?: boolean;
}

/** Collapses repeats: OPTIN, OPTIN, OPTOUT → OPTIN, OPTOUT. */
function changes<T>(values: T[]): T[] {
  return values.filter((value, index) => index === 0 || values[index - 1] !== value);
}

/** True when `calls` can be read as a walk along `allowed` that never steps back. */
function followsInOrder<T>(calls: T[], allowed: T[]): boolean {
  let position = 0;
  for (const call of calls) {
    while (position < allowed.length && allowed[position] !== call) position += 1;
    if (position === allowed.length) return false;
  }
  return true;
}

function customersByIdentifier(capillary: CapillaryState): Map<string, CustomerSnapshot[]> {
  const index = new Map<string, CustomerSnapshot[]>();
  for (const customer of capillary.customers) {
    const values = new Set(
      customer.profiles.flatMap((profile) =>
        profile.identifiers.map((identifier) => `${identifier.type}:${identifier.value}`),
      ),
    );
    for (const value of values) index.set(value, [...(index.get(value) ?? []), customer]);
  }
  return index;
}

/** The key of a user's record: the bot and the user. */
export const recordKey = ({ destination, userId }: { destination: string; userId: string }): string =>
  `${destination}#${userId}`;

/** Each record's writes, in journal order. */
function writesByRecord(writes: StoreWrite[]): Map<string, StoreWrite[]> {
  const byRecord = new Map<string, StoreWrite[]>();
  for (const write of writes) byRecord.set(recordKey(write), [...(byRecord.get(recordKey(write)) ?? []), write]);
  return byRecord;
}

/** An event of a lane that was granted a claim and not released: it may have reached Capillary. */
interface ClaimedEvent {
  eventId: string;
  timestamp: number;
  recorded: boolean;
}

/**
 * The claims and commits a claim's before-image shows: DynamoDB's own word, so a claim or commit that reached the
 * table but was never journaled (its worker died first) is still known from the next claim of the record on.
 */
function witnessedBy(before: UserSyncState): (ClaimedEvent & { lane: EventLane })[] {
  const witnessed: (ClaimedEvent & { lane: EventLane })[] = [];
  for (const lane of EVENT_LANES) {
    const last = lastApplied(before, lane);
    if (last.eventId !== undefined && last.timestamp !== undefined)
      witnessed.push({ lane, eventId: last.eventId, timestamp: last.timestamp, recorded: true });
    const inFlight = before.inFlight?.[lane];
    if (inFlight) witnessed.push({ lane, ...inFlight, recorded: false });
  }
  const { pendingEventId, pendingEventTimestamp } = before;
  if (pendingEventId !== undefined && pendingEventTimestamp !== undefined)
    witnessed.push({
      lane: claimLaneOf(before),
      eventId: pendingEventId,
      timestamp: pendingEventTimestamp,
      recorded: false,
    });
  return witnessed;
}

/**
 * Claims that went back in time or to an event already recorded, from one record's writes in order. Per lane, every
 * event granted a claim counts until it is released (a refused link left no trace), whatever happened to its claim
 * since: expired, taken over by another lane, overwritten. An unordered lane (engagement) has no order to go back
 * in: that its events post once is engagement-oracle.ts's check.
 */
function claimProblems(writes: StoreWrite[]): { kind: ProblemKind; detail: string }[] {
  const problems: { kind: ProblemKind; detail: string }[] = [];
  const lanes = new Map<EventLane, Map<string, ClaimedEvent>>(EVENT_LANES.map((lane) => [lane, new Map()]));
  const remember = (lane: EventLane, event: ClaimedEvent) => {
    const claimed = lanes.get(lane)!;
    claimed.set(event.eventId, { ...event, recorded: event.recorded || claimed.get(event.eventId)?.recorded === true });
  };
  for (const write of writes) {
    if (LANE_ORDER[write.lane] === 'unordered') continue;
    const claimed = lanes.get(write.lane)!;
    const event = { eventId: write.webhookEventId, timestamp: write.timestamp };
    if (write.kind === 'release') {
      claimed.delete(write.webhookEventId);
      continue;
    }
    if (write.kind === 'commit') {
      remember(write.lane, { ...event, recorded: true });
      continue;
    }
    for (const { lane, ...witnessed } of witnessedBy(write.before ?? {})) remember(lane, witnessed);
    for (const other of claimed.values()) {
      const granted = `claim granted to event ${write.webhookEventId} (t=${write.timestamp})`;
      if (other.eventId === write.webhookEventId) {
        if (other.recorded) problems.push({ kind: 'reapplied', detail: `${granted} after it was recorded` });
      } else if (write.timestamp <= other.timestamp) {
        const newer = `event ${other.eventId} (t=${other.timestamp})`;
        problems.push({
          kind: 'stale',
          detail: other.recorded
            ? `${granted} after ${newer} was recorded`
            : `${granted} after the newer ${newer} had one`,
        });
      }
    }
    remember(write.lane, { ...event, recorded: false });
  }
  return problems;
}

/** The user's follow/unfollow events, in time order, and the state the newest implies. */
function syncLane(user: UserHistory): { events: UserHistory['events']; actions: SyncAction[] } {
  const indexes = user.actions.flatMap((action, index) => (isSyncAction(action) ? [index] : []));
  return {
    events: indexes.map((index) => user.events[index]!),
    actions: indexes.map((index) => user.actions[index] as SyncAction),
  };
}

function judgeUser(
  user: UserHistory,
  inputs: OracleInputs,
  customers: CustomerSnapshot[],
  writes: StoreWrite[],
): UserProblem[] {
  const problems: UserProblem[] = [];
  const report = (kind: ProblemKind, detail: string) =>
    problems.push({ userId: user.userId, channel: user.channel, kind, detail });
  const sync = syncLane(user);
  const newest = sync.events.at(-1);
  const expected = impliedState(sync.actions.at(-1) ?? 'unfollow');
  const record = inputs.records.get(recordKey(user));
  const lineAccountId = inputs.lineAccountIds[user.channel] as string;
  // A forgotten user's record drops its subscription until the next follow/unfollow.
  const subscriptionKept = inputs.identityMix === true || record?.subscription === expected;
  if (newest !== undefined && (record?.lastEventId !== newest.webhookEventId || !subscriptionKept)) {
    report(
      'state',
      `DynamoDB has ${record?.subscription} from event ${record?.lastEventId}; the newest event ${newest.webhookEventId} means ${expected}`,
    );
  }
  for (const { kind, detail } of claimProblems(writes)) report(kind, detail);
  if (inputs.identityMix) return problems;
  if (customers.length > 1)
    report('duplicate', `${customers.length} Capillary customers: ${customers.map((c) => c.id).join(', ')}`);
  if (user.links.length > 0 || user.actions.includes('unlink'))
    return [...problems, ...judgeLinkUser(user, inputs, customers, newest ? expected : 'OPTIN')];

  const [customer] = customers;
  if (customer === undefined) {
    if (expected === 'OPTIN') report('state', 'no Capillary customer, but the newest event is a follow');
    return problems;
  }
  const subscription = subscriptionOf(inputs.capillary, customer.id, 'LINE', lineAccountId);
  // Registered through another channel of the provider, never through this one: nothing to opt out of here.
  const neverHere =
    record?.customerId === undefined && subscription.BULK === undefined && subscription.TRANS === undefined;
  if (expected === 'OPTOUT' && neverHere) return problems;
  if (subscription.BULK !== expected || subscription.TRANS !== expected) {
    report('state', `Capillary subscription ${JSON.stringify(subscription)}, expected ${expected}`);
  }
  if (record?.customerId !== customer.id)
    report('state', `DynamoDB customerId ${record?.customerId}, Capillary customer ${customer.id}`);
  const calls = changes(
    customer.subscriptionHistory
      .filter((change) => change.channel === 'LINE' && change.accountId === lineAccountId)
      .map((change) => change.type),
  );
  const eventStates = changes(sync.actions.map(impliedState));
  if (!followsInOrder(calls, eventStates))
    report('stale', `subscription calls ${calls.join(' → ')} do not follow the events' ${eventStates.join(' → ')}`);
  return problems;
}

/** Linked users: their member holds the LINE id (and nobody else does) with the newest follow state; unlinked: the member does not. */
function judgeLinkUser(
  user: UserHistory,
  inputs: OracleInputs,
  customers: CustomerSnapshot[],
  expected: 'OPTIN' | 'OPTOUT',
): UserProblem[] {
  const problems: UserProblem[] = [];
  const report = (kind: ProblemKind, detail: string) =>
    problems.push({ userId: user.userId, channel: user.channel, kind, detail });
  const memberId = inputs.members.get(recordKey(user));
  const record = inputs.records.get(recordKey(user));
  const ownEvents = new Set([
    ...user.links.map((link) => link.webhookEventId),
    ...user.attacks.filter((a) => a.kind === 'reuse').map((a) => a.webhookEventId),
  ]);
  const effective = new Set(
    user.links
      .filter((link) => ownEvents.has(inputs.nonceConsumers.get(link.nonce) ?? ''))
      .map((link) => link.webhookEventId),
  );
  // The newest link-lane action that took effect decides (events are in time order).
  const decisive = [...user.events.keys()]
    .reverse()
    .find((index) => user.actions[index] === 'unlink' || effective.has(user.events[index]!.webhookEventId));
  const linked = decisive !== undefined && user.actions[decisive] === 'link';
  const holdsIt = customers.some((customer) => customer.id === memberId);
  if (linked) {
    if (!holdsIt || customers.length !== 1)
      report(
        'link',
        `linked, but the LINE id is on ${customers.map((c) => c.id).join(', ') || 'no customer'}, not only on member ${memberId}`,
      );
    else {
      const subscription = subscriptionOf(
        inputs.capillary,
        memberId as number,
        'LINE',
        inputs.lineAccountIds[user.channel] as string,
      );
      if (subscription.BULK !== expected || subscription.TRANS !== expected)
        report('state', `member subscription ${JSON.stringify(subscription)}, expected ${expected}`);
    }
    if (record?.linkedCustomerId !== memberId)
      report('link', `DynamoDB linkedCustomerId ${record?.linkedCustomerId}, member ${memberId}`);
  } else if (holdsIt) {
    report(
      'link',
      `not linked (newest effective action: ${decisive === undefined ? 'none' : user.actions[decisive]}), but member ${memberId} holds the LINE id`,
    );
  }
  return problems;
}

export function judgeUsers(inputs: OracleInputs): UserProblem[] {
  const customersOf = customersByIdentifier(inputs.capillary);
  const writesOf = writesByRecord(inputs.storeWrites);
  const memberOwners = new Map([...inputs.members].map(([key, memberId]) => [memberId, key]));
  const linkedNonces = new Map<string, number>();
  const nonceOf = new Map(
    inputs.users.flatMap((user) => [
      ...user.links.map((l) => [l.webhookEventId, l.nonce] as const),
      ...user.attacks.map((a) => [a.webhookEventId, a.nonce] as const),
    ]),
  );
  for (const eventId of inputs.linkedEventIds) {
    const nonce = nonceOf.get(eventId) ?? eventId;
    linkedNonces.set(nonce, (linkedNonces.get(nonce) ?? 0) + 1);
  }
  const nonceProblems = [...linkedNonces]
    .filter(([, count]) => count > 1)
    .map(([, count]): UserProblem => ({
      userId: '-',
      channel: '-',
      kind: 'nonce',
      detail: `a nonce completed ${count} links`,
    }));
  return [
    ...nonceProblems,
    ...inputs.users.flatMap((user) => {
      // A user who linked keeps the externalId on the detached anonymous customer: only the LINE id counts there.
      const links = user.links.length > 0 || user.actions.includes('unlink');
      const holders = [
        ...(customersOf.get(`line:${user.userId}`) ?? []),
        ...(links ? [] : (customersOf.get(`externalId:${inputs.externalIdPrefix}${user.userId}`) ?? [])),
      ];
      const customers = [...new Map(holders.map((customer) => [customer.id, customer])).values()];
      const foreignMembers = inputs.identityMix
        ? []
        : customers.filter(
            (customer) => memberOwners.has(customer.id) && memberOwners.get(customer.id) !== recordKey(user),
          );
      const foreign = foreignMembers.map((customer): UserProblem => ({
        userId: user.userId,
        channel: user.channel,
        kind: 'link',
        detail: `the LINE id is on member ${customer.id} of another user`,
      }));
      return [...foreign, ...judgeUser(user, inputs, customers, writesOf.get(recordKey(user)) ?? [])];
    }),
  ];
}
