/**
 * The identity invariant (issue 19), checked for every LINE user on every channel once the queue is drained,
 * against Capillary's own state (the stand-in's customers, their LINE profiles per account and subscriptions) and
 * the bridge's records. What each user should be is derived from the scenario, not from the bridge: the newest
 * follow/unfollow says friend or not; the user's link-lane actions, folded in time order, say linked (to the member
 * a mobile number names, wherever Capillary's merges moved it) or not; a PII deletion that took the user's LINE
 * profile away, with no follow after it, says forgotten.
 *
 * - friend: exactly one customer carries the user's LINE profile of the channel's account, opted in (BULK and
 *   TRANS); registration `on-link`: a friend who never linked is on none.
 * - not a friend: at most one, not opted in. With no follow or unfollow in the run, friendship predates it: an
 *   accountLink (sent only to friends) says friend, so opted in wherever carried; nobody asks a carrier of them.
 * - linked: that customer is the member (for every channel of the provider: the sibling link); where the user is not
 *   a friend, no customer at all also holds (their profile there never reached Capillary); unlinked: a customer
 *   other than their members.
 * - forgotten: no customer carries the profile; the record is marked and names no customer. A deletion Capillary
 *   never notified cannot be told from any other customer gone: the record then only names no live customer.
 * - record: names the customer that carries the profile (or one Capillary merged away: healed by the next event,
 *   counted apart) and the member when linked, nothing when not.
 * - leftovers: no customer is opted in on an account it carries no LINE profile of, and no customer carries a LINE
 *   profile of a user the run does not know.
 * - merge requests (CAPILLARY_LINK_ANONYMOUS=merge-request): Capillary took at most one request per (victim,
 *   survivor). A linked user with a request into their member still pending is on the anonymous customer (the victim,
 *   which exists) and their record names it, with the member as merge-pending; on every channel of the provider (the
 *   sibling records wait with the link: they name the victim, where their profile reached Capillary, and the member).
 *   Unless the member carries them: a link that met another link's request pending for the victim (Capillary takes one
 *   per victim) moved the profile itself, and the user is judged linked. Approved and notified (or approved at
 *   once): linked like any linked user, and the record names the member, linked, no customer merged away (either
 *   status may read `failed` when the user's last link failed afterwards: it records its failure). Approved
 *   with no notification: on the member; the record may still name the victim and say merge-pending (nothing told
 *   the bridge): counted apart, like a record naming a customer merged away. A refused request is not played (the
 *   bridge is not told of one: its records would wait on the victim, merge-pending, for good).
 */
import type { SubscriptionState, UserSyncState } from '../../lib/domain/sync-rules';
import {
  customersWithIdentifier,
  subscriptionOf,
  type CapillaryState,
  type CustomerSnapshot,
} from '../standins/capillary-standin';
import type { MergeRequestStory } from './identity-merge-requests';
import { carrierOf, targetMobile, type IdentityFacts } from './identity-play';
import type { IdentityPlan } from './identity-scenario';
import type { UserProblem } from './oracle';
import { isSyncAction, type UserHistory } from './scenario';

export const IDENTITY_CHECKS = [
  'friend on exactly one customer carrying its LINE profile',
  'not a friend: on at most one customer',
  'subscription as LINE implies',
  'linked: on their member',
  'unlinked: on a customer of their own',
  'forgotten: on no customer',
  'on-link: a friend who never linked is on none',
  'record names the customer and member',
  'no bridge leftover on any customer',
  'merge request filed at most once per link',
  'merge pending: on the anonymous customer, the record pending on the member',
  'merge approved and notified: the record linked to the member',
] as const;
export type IdentityCheck = (typeof IDENTITY_CHECKS)[number];

export interface IdentityInputs {
  users: UserHistory[];
  plan: IdentityPlan;
  facts: IdentityFacts;
  capillary: CapillaryState;
  /** the DynamoDB record of each user, by recordKey */
  records: Map<string, UserSyncState | undefined>;
  nonceConsumers: Map<string, string | undefined>;
  /** each channel's Capillary account */
  lineAccountIds: Record<string, string>;
  registration: 'instore+line' | 'on-link';
  /** merge-request mode: every request Capillary took, with its fate */
  mergeRequests?: MergeRequestStory[];
}

export interface IdentityVerdict {
  problems: UserProblem[];
  checks: Record<IdentityCheck, { checked: number; failed: number }>;
  /** records naming a customer Capillary merged away (a notification overtaken, or none sent): the next event heals them */
  recordsNamingGoneCustomer: number;
  /** links still merge-pending whose request Capillary approved with no notification (nothing told the bridge) */
  silentlyApprovedStillPending: number;
}

/** What the scenario says a user should be on one channel. */
interface Expected {
  friend: boolean;
  /** the run shows a follow or an unfollow; without one, friendship predates the run (see expectedOf) */
  friendKnown: boolean;
  /** the member's mobile number when linked */
  linkedTo?: string;
  everLinked: boolean;
  forgotten: boolean;
  /** the deletion that made the user forgotten was notified: the bridge can mark the record */
  deletionNotified: boolean;
}

const key = (user: { destination: string; userId: string }) => `${user.destination}#${user.userId}`;

/** The user's link-lane actions in time order, each applied when it took effect; the last state stands. */
function foldLinks(user: UserHistory, inputs: IdentityInputs): { linkedTo?: string; everLinked: boolean } {
  const { plan, facts, nonceConsumers } = inputs;
  const ownEvents = new Set([
    ...user.links.map((link) => link.webhookEventId),
    ...user.attacks.filter((attack) => attack.kind === 'reuse').map((attack) => attack.webhookEventId),
  ]);
  let linkedTo: string | undefined;
  let everLinked = false;
  for (const [index, action] of user.actions.entries()) {
    const eventId = user.events[index]!.webhookEventId;
    if (action === 'unlink') {
      const byCustomer = plan.unlinksByCustomer.has(eventId);
      if (!byCustomer || facts.apiAnswers.get(eventId)?.status === 202) linkedTo = undefined;
      continue;
    }
    if (action !== 'link') continue;
    const planned = plan.links.get(eventId);
    if (planned?.target !== 'own' && planned?.target !== 'second') continue; // fails: nothing changes
    const nonce = user.links.find((link) => link.webhookEventId === eventId)?.nonce ?? '';
    const effective =
      planned.via === 'id-token'
        ? facts.apiAnswers.get(eventId)?.status === 202
        : ownEvents.has(nonceConsumers.get(nonce) ?? '');
    if (!effective) continue;
    linkedTo = targetMobile(facts, user, planned.target);
    everLinked = true;
  }
  return { linkedTo, everLinked };
}

function expectedOf(
  user: UserHistory,
  inputs: IdentityInputs,
  linkUserOf: (user: UserHistory) => UserHistory,
): Expected {
  const sync = user.actions.flatMap((action, index) => (isSyncAction(action) ? [{ action, index }] : []));
  const newest = sync.at(-1);
  // With no follow or unfollow in the run, friendship predates it: LINE sends accountLink only to friends, so a user
  // who sent one is taken as a friend wherever they are on a customer (opted in), though none is asked of them.
  const sentAccountLink = user.actions.some(
    (action, index) =>
      action === 'link' && inputs.plan.links.get(user.events[index]!.webhookEventId)?.via === 'accountLink',
  );
  const friend = newest === undefined ? sentAccountLink : newest.action !== 'unfollow';
  const accountId = inputs.lineAccountIds[user.channel];
  const deletionsOf = (of: UserHistory, account = inputs.lineAccountIds[of.channel]) =>
    inputs.facts.deletedProfiles.filter((deleted) => deleted.lineUserId === of.userId && deleted.accountId === account);
  const deletedAt = (of: UserHistory, account?: string) =>
    Math.max(-Infinity, ...deletionsOf(of, account).map((deleted) => deleted.at));
  const deletion = deletedAt(user, accountId);
  const followedSince = sync.some(
    ({ action, index }) => action !== 'unfollow' && user.events[index]!.timestamp > deletion,
  );
  const forgotten = deletion > -Infinity && !followedSince;
  const linkUser = linkUserOf(user);
  const links = foldLinks(linkUser, inputs);
  // Capillary rejected the merge request of the user's last link: the newest request into the member (an earlier one
  // of the user's, left pending when its id was never known to the bridge, may meet another fate at the cut).
  const linkedId = links.linkedTo && customersWithIdentifier(inputs.capillary, 'mobile', links.linkedTo)[0]?.id;
  const into = (inputs.mergeRequests ?? []).filter((request) => request.survivorId === linkedId);
  const rejected = into.at(-1)?.fate === 'rejected';
  // A deleted member takes the link with it (no link-lane event follows a deletion in the plan).
  const unlinkedByDeletion = deletedAt(linkUser) > -Infinity || deletion > -Infinity;
  return {
    friend,
    friendKnown: newest !== undefined,
    forgotten,
    deletionNotified: deletionsOf(user, accountId).some((deleted) => deleted.at === deletion && deleted.notified),
    everLinked: links.everLinked,
    ...(links.linkedTo !== undefined && !unlinkedByDeletion && !rejected ? { linkedTo: links.linkedTo } : {}),
  };
}

const optedIn = (states: Partial<Record<string, SubscriptionState>>) =>
  states.BULK === 'OPTIN' || states.TRANS === 'OPTIN';

export function judgeIdentity(inputs: IdentityInputs): IdentityVerdict {
  const checks = Object.fromEntries(
    IDENTITY_CHECKS.map((name) => [name, { checked: 0, failed: 0 }]),
  ) as IdentityVerdict['checks'];
  const problems: UserProblem[] = [];
  let recordsNamingGoneCustomer = 0;
  let silentlyApprovedStillPending = 0;
  const { capillary, plan, facts } = inputs;
  const exists = new Set(capillary.customers.map((customer) => customer.id));
  const linkUsers = new Map(inputs.users.filter((u) => plan.linkChannels.has(u.channel)).map((u) => [u.userId, u]));
  const linkUserOf = (user: UserHistory) =>
    plan.linkChannels.has(user.channel) ? user : (linkUsers.get(user.userId) ?? user);
  const memberIdOf = (mobile: string) => customersWithIdentifier(capillary, 'mobile', mobile)[0]?.id;

  for (const user of inputs.users) {
    const record = inputs.records.get(key(user));
    const check = (name: IdentityCheck, holds: boolean, detail: () => string) => {
      checks[name].checked += 1;
      if (holds) return;
      checks[name].failed += 1;
      problems.push({
        userId: user.userId,
        channel: user.channel,
        kind: 'identity',
        detail: `${name}: ${detail()} (${user.channel}: ${historyOf(linkUserOf(user), inputs)}; record link ${record?.link?.status ?? '-'} ${record?.link?.detail ?? ''})`,
      });
    };
    const accountId = inputs.lineAccountIds[user.channel] as string;
    const expected = expectedOf(user, inputs, linkUserOf);
    const carriers = carrierOf(capillary.customers, user.userId, accountId);
    const ids = () => carriers.map((customer) => customer.id).join(', ') || 'none';
    const [carrier] = carriers;
    const members = facts.members.get(key(linkUserOf(user)));

    if (expected.forgotten) {
      check('forgotten: on no customer', carriers.length === 0, () => `carried by ${ids()}`);
    } else if (inputs.registration === 'on-link' && !expected.everLinked) {
      check('on-link: a friend who never linked is on none', carriers.length === 0, () => `carried by ${ids()}`);
    } else if (expected.friend && expected.friendKnown) {
      check(
        'friend on exactly one customer carrying its LINE profile',
        carriers.length === 1,
        () => `carried by ${ids()}`,
      );
    } else {
      check('not a friend: on at most one customer', carriers.length <= 1, () => `carried by ${ids()}`);
    }
    if (carriers.length > 1)
      problems.push({ userId: user.userId, channel: user.channel, kind: 'duplicate', detail: `carried by ${ids()}` });
    if (carrier !== undefined && carriers.length === 1 && !expected.forgotten) {
      const states = subscriptionOf(capillary, carrier.id, 'LINE', accountId);
      const holds = expected.friend ? states.BULK === 'OPTIN' && states.TRANS === 'OPTIN' : !optedIn(states);
      check(
        'subscription as LINE implies',
        holds,
        () => `${JSON.stringify(states)} on ${carrier.id}, friend ${expected.friend}`,
      );
    }
    const linkChannel = linkUserOf(user) === user;
    if (expected.linkedTo !== undefined) {
      const memberId = memberIdOf(expected.linkedTo);
      // A friend is on the member; a user who is not a friend here may be on no customer at all (their profile in
      // this channel never reached Capillary), but never on another one.
      const onlyOn = (id: number | undefined) =>
        expected.friend
          ? carriers.length === 1 && carrier?.id === id
          : carriers.every((customer) => customer.id === id);
      const into = inputs.mergeRequests?.filter((request) => request.survivorId === memberId) ?? [];
      // A pending request holds the user on its victim only while the member does not carry them: a link that found a
      // request it had not filed pending for the victim (Capillary takes no second) moved them itself.
      const onMember = carrier !== undefined && carriers.every((customer) => customer.id === memberId);
      // An unlink leaves the anonymous customer with its request pending: a later link's request is the one that counts.
      const pendingInto = into.filter((request) => request.status === 'PENDING');
      const pending = onMember
        ? undefined
        : (pendingInto.find((request) => request.victimId === carrier?.id) ?? pendingInto.at(-1));
      const approved = into.find((request) => request.status === 'APPROVED');
      // A link that fails after the effective one records its own failure and keeps the member (link = move, never strip).
      const statusOk = (wanted: 'merge-pending' | 'linked') =>
        record?.link?.status === wanted || (record?.link?.status === 'failed' && lastLinkFails(linkUserOf(user), plan));
      const recordSays = () =>
        JSON.stringify({
          customerId: record?.customerId,
          linkedCustomerId: record?.linkedCustomerId,
          link: record?.link?.status,
        });
      if (pending !== undefined) {
        // The record's part is the link channel's: a sibling record is judged by 'record names the customer and member'.
        check(
          'merge pending: on the anonymous customer, the record pending on the member',
          onlyOn(pending.victimId) &&
            (!linkChannel ||
              (record?.customerId === pending.victimId &&
                record.linkedCustomerId === memberId &&
                statusOk('merge-pending'))),
          () => `request ${pending.id} of victim ${pending.victimId}, carried by ${ids()}, record ${recordSays()}`,
        );
      } else {
        check('linked: on their member', onlyOn(memberId), () => `member ${memberId}, carried by ${ids()}`);
      }
      if (pending === undefined && approved?.fate === 'silent' && record?.link?.status === 'merge-pending')
        silentlyApprovedStillPending += 1;
      else if (pending === undefined && approved !== undefined && linkChannel)
        check(
          'merge approved and notified: the record linked to the member',
          record?.customerId === memberId && record?.linkedCustomerId === memberId && statusOk('linked'),
          () => `request ${approved.id} (${approved.fate}) into member ${memberId}, record ${recordSays()}`,
        );
    } else if (members !== undefined && expected.everLinked && carrier !== undefined) {
      const own = [memberIdOf(members.own), memberIdOf(members.second)];
      check('unlinked: on a customer of their own', !own.includes(carrier.id), () => `still on member ${carrier.id}`);
    }
    // The record: the carrier and the member, or a customer merged away that the next event re-resolves.
    const names = (id: number | undefined, wanted: number | undefined) => {
      if (id === wanted) return true;
      if (id !== undefined && !exists.has(id)) {
        recordsNamingGoneCustomer += 1;
        return true;
      }
      return false;
    };
    const memberId = expected.linkedTo === undefined ? undefined : memberIdOf(expected.linkedTo);
    // Forgotten: the record marked and naming no one; with no notification the bridge cannot know the customer went for
    // a PII deletion, so it only names no one (or the deleted customer, until its next event re-resolves it).
    const recordHolds = expected.forgotten
      ? expected.deletionNotified
        ? record?.forgottenAt !== undefined && record.customerId === undefined && record.linkedCustomerId === undefined
        : names(record?.customerId, undefined) && names(record?.linkedCustomerId, undefined)
      : (carrier === undefined || record?.customerId === undefined || names(record.customerId, carrier.id)) &&
        names(record?.linkedCustomerId, memberId);
    check('record names the customer and member', recordHolds, () =>
      JSON.stringify({
        customerId: record?.customerId,
        linkedCustomerId: record?.linkedCustomerId,
        forgottenAt: record?.forgottenAt,
        carrier: carrier?.id,
        memberId,
      }),
    );
  }
  problems.push(...leftovers(inputs, checks), ...mergeRequestsFiledTwice(inputs, checks));
  return { problems, checks, recordsNamingGoneCustomer, silentlyApprovedStillPending };
}

/** The user's last link names a member that must fail (missing, or carrying another LINE user). */
function lastLinkFails(user: UserHistory, plan: IdentityPlan): boolean {
  const index = user.actions.lastIndexOf('link');
  const target = index < 0 ? undefined : plan.links.get(user.events[index]!.webhookEventId)?.target;
  return target === 'missing' || target === 'taken';
}

/**
 * Capillary took one request per (victim, survivor) at most: a lost answer is never filed again. One the bridge
 * withdrew (its user unlinked first) ended that link: a later link may file the pair again.
 */
function mergeRequestsFiledTwice(inputs: IdentityInputs, checks: IdentityVerdict['checks']): UserProblem[] {
  const filed = new Map<string, number[]>();
  for (const request of inputs.mergeRequests ?? []) {
    if (request.fate === 'withdrawn') continue;
    const pair = `${request.victimId} into ${request.survivorId}`;
    filed.set(pair, [...(filed.get(pair) ?? []), request.id]);
  }
  const check = checks['merge request filed at most once per link'];
  check.checked += filed.size;
  const twice = [...filed].filter(([, ids]) => ids.length > 1);
  check.failed += twice.length;
  return twice.map(([pair, ids]) => ({
    userId: '-',
    channel: '-',
    kind: 'identity' as const,
    detail: `merge request filed at most once per link: ${pair} filed as ${ids.join(', ')}`,
  }));
}

/** Every customer: opted in only where it carries a LINE profile of that account, and only LINE users the run knows. */
function leftovers(inputs: IdentityInputs, checks: IdentityVerdict['checks']): UserProblem[] {
  const known = new Set([...inputs.users.map((user) => user.userId), ...inputs.facts.foreignLineIds]);
  const problems: UserProblem[] = [];
  for (const customer of inputs.capillary.customers) {
    checks['no bridge leftover on any customer'].checked += 1;
    const found = leftoverOn(customer, known);
    if (found === undefined) continue;
    checks['no bridge leftover on any customer'].failed += 1;
    problems.push({ userId: '-', channel: '-', kind: 'identity', detail: `customer ${customer.id}: ${found}` });
  }
  return problems;
}

function leftoverOn(customer: CustomerSnapshot, known: Set<string>): string | undefined {
  const lineProfiles = customer.profiles.filter((profile) => profile.source === 'LINE');
  const strangers = lineProfiles.flatMap((profile) =>
    profile.identifiers.filter((identifier) => identifier.type === 'line' && !known.has(identifier.value)),
  );
  if (strangers.length > 0) return `carries ${strangers.length} LINE id(s) of no user of the run`;
  const accounts = new Set(lineProfiles.map((profile) => profile.accountId));
  const stray = customer.subscriptions.find(
    (subscription) =>
      subscription.channel === 'LINE' && subscription.type === 'OPTIN' && !accounts.has(subscription.accountId),
  );
  return stray && `opted in on account ${stray.accountId} without a LINE profile of it`;
}

/** The user's actions as the oracle reads them, for a problem's detail: `link(second,id-token:202)`, `unlink(customer:404)`. */
function historyOf(user: UserHistory, { plan, facts }: IdentityInputs): string {
  return user.actions
    .map((action, index) => {
      const eventId = user.events[index]!.webhookEventId;
      const answer = facts.apiAnswers.get(eventId)?.status;
      if (action === 'unlink') return plan.unlinksByCustomer.has(eventId) ? `unlink(customer:${answer})` : 'unlink';
      const link = plan.links.get(eventId);
      if (link === undefined) return action;
      return `link(${link.target},${link.via}${answer === undefined ? '' : `:${answer}`})`;
    })
    .join(',');
}
