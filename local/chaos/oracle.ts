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
 *   event), and no claim (what permits Capillary calls) went to an event older than one already claimed.
 * - reapplied: no claim went to an event already committed, so the only repeated Capillary calls are
 *   the retries of an event whose worker died before recording it.
 */
import type { UserSyncState } from '../../lib/domain/sync-rules';
import { type CapillaryState, type CustomerSnapshot, subscriptionOf } from '../standins/capillary-standin';
import type { StoreWrite } from './crashing-worker';
import { impliedState, type UserHistory } from './scenario';

export type ProblemKind = 'state' | 'duplicate' | 'stale' | 'reapplied';

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
    const values = new Set(customer.profiles.flatMap((profile) => profile.identifiers.map((identifier) => `${identifier.type}:${identifier.value}`)));
    for (const value of values) index.set(value, [...(index.get(value) ?? []), customer]);
  }
  return index;
}

/** The key of a user's record: the bot and the user. */
export const recordKey = ({ destination, userId }: { destination: string; userId: string }): string => `${destination}#${userId}`;

function writesByRecord(writes: StoreWrite[]): Map<string, StoreWrite[]> {
  const byRecord = new Map<string, StoreWrite[]>();
  for (const write of writes) byRecord.set(recordKey(write), [...(byRecord.get(recordKey(write)) ?? []), write]);
  return byRecord;
}

/** Claims that went back in time or to an event already recorded, from one user's store writes in order. */
function claimProblems(writes: StoreWrite[]): { kind: ProblemKind; detail: string }[] {
  const problems: { kind: ProblemKind; detail: string }[] = [];
  let lastClaim: StoreWrite | undefined;
  let lastCommit: StoreWrite | undefined;
  for (const write of writes) {
    if (write.kind === 'commit') {
      lastCommit = write;
      continue;
    }
    if (lastCommit && write.timestamp <= lastCommit.timestamp) {
      const kind = write.webhookEventId === lastCommit.webhookEventId ? 'reapplied' : 'stale';
      problems.push({ kind, detail: `claim granted to event ${write.webhookEventId} (t=${write.timestamp}) after event ${lastCommit.webhookEventId} (t=${lastCommit.timestamp}) was recorded` });
    } else if (lastClaim && write.timestamp < lastClaim.timestamp) {
      problems.push({ kind: 'stale', detail: `claim granted to event ${write.webhookEventId} (t=${write.timestamp}) after the newer event ${lastClaim.webhookEventId} (t=${lastClaim.timestamp}) had one` });
    }
    lastClaim = write;
  }
  return problems;
}

function judgeUser(user: UserHistory, inputs: OracleInputs, customers: CustomerSnapshot[], writes: StoreWrite[]): UserProblem[] {
  const problems: UserProblem[] = [];
  const report = (kind: ProblemKind, detail: string) => problems.push({ userId: user.userId, channel: user.channel, kind, detail });
  const newest = user.events.at(-1);
  const expected = impliedState(user.actions.at(-1) ?? 'unfollow');
  const record = inputs.records.get(recordKey(user));
  const lineAccountId = inputs.lineAccountIds[user.channel] as string;
  if (record?.lastEventId !== newest?.webhookEventId || record?.subscription !== expected) {
    report('state', `DynamoDB has ${record?.subscription} from event ${record?.lastEventId}; the newest event ${newest?.webhookEventId} means ${expected}`);
  }
  for (const { kind, detail } of claimProblems(writes)) report(kind, detail);
  if (customers.length > 1) report('duplicate', `${customers.length} Capillary customers: ${customers.map((c) => c.id).join(', ')}`);

  const [customer] = customers;
  if (customer === undefined) {
    if (expected === 'OPTIN') report('state', 'no Capillary customer, but the newest event is a follow');
    return problems;
  }
  const subscription = subscriptionOf(inputs.capillary, customer.id, 'LINE', lineAccountId);
  // Registered through another channel of the provider, never through this one: nothing to opt out of here.
  const neverHere = record?.customerId === undefined && subscription.BULK === undefined && subscription.TRANS === undefined;
  if (expected === 'OPTOUT' && neverHere) return problems;
  if (subscription.BULK !== expected || subscription.TRANS !== expected) {
    report('state', `Capillary subscription ${JSON.stringify(subscription)}, expected ${expected}`);
  }
  if (record?.customerId !== customer.id) report('state', `DynamoDB customerId ${record?.customerId}, Capillary customer ${customer.id}`);
  const calls = changes(customer.subscriptionHistory
    .filter((change) => change.channel === 'LINE' && change.accountId === lineAccountId)
    .map((change) => change.type));
  const eventStates = changes(user.actions.map(impliedState));
  if (!followsInOrder(calls, eventStates)) report('stale', `subscription calls ${calls.join(' → ')} do not follow the events' ${eventStates.join(' → ')}`);
  return problems;
}

export function judgeUsers(inputs: OracleInputs): UserProblem[] {
  const customersOf = customersByIdentifier(inputs.capillary);
  const writesOf = writesByRecord(inputs.storeWrites);
  return inputs.users.flatMap((user) => {
    const holders = [
      ...(customersOf.get(`line:${user.userId}`) ?? []),
      ...(customersOf.get(`externalId:${inputs.externalIdPrefix}${user.userId}`) ?? []),
    ];
    const customers = [...new Map(holders.map((customer) => [customer.id, customer])).values()];
    return judgeUser(user, inputs, customers, writesOf.get(recordKey(user)) ?? []);
  });
}
