/**
 * The chaos run's identity oracle, fed Capillary states by hand: it must report each planted violation of the
 * identity invariant (a LINE id left on a merged-away victim, a friend on no customer, a forgotten user still
 * carried, one registered again by a follow older than the deletion, a linked user off their member, an opt-in left
 * behind, a record naming another customer) and nothing when the state is right.
 */
import type { UserSyncState } from '../../lib/domain/sync-rules';
import type { MergeRequestStory } from '../../local/chaos/identity-merge-requests';
import { judgeIdentity, type IdentityInputs } from '../../local/chaos/identity-oracle';
import type { IdentityFacts } from '../../local/chaos/identity-play';
import type { UserHistory } from '../../local/chaos/scenario';
import { followEvent, unfollowEvent } from '../../local/line-event-factory';
import type { CustomerSnapshot } from '../../local/standins/capillary-standin';
import { account, destination, identityFacts, link, linked, MEMBER_MOBILE, plan } from '../support/identity-world';

const friend: UserHistory = {
  userId: 'Ufriend',
  channel: 'th',
  destination,
  events: [followEvent('Ufriend', 1000)],
  actions: ['follow'],
  links: [],
  attacks: [],
};
const leaving: UserHistory = {
  userId: 'Uleaving',
  channel: 'th',
  destination,
  events: [followEvent('Uleaving', 1000), unfollowEvent('Uleaving', 1500)],
  actions: ['follow', 'unfollow'],
  links: [],
  attacks: [],
};

function customer(id: number, lineIds: string[], optIn: boolean, mobile?: string): CustomerSnapshot {
  const subscription = (priority: 'BULK' | 'TRANS') => ({
    channel: 'LINE',
    accountId: account,
    priority,
    type: optIn ? ('OPTIN' as const) : ('OPTOUT' as const),
    sourceName: 'LINE',
  });
  return {
    id,
    profiles: [
      ...lineIds.map((value) => ({
        source: 'LINE',
        accountId: account,
        identifiers: [{ type: 'line', value }],
        commChannels: [],
        fields: {},
      })),
      ...(mobile
        ? [
            {
              source: 'INSTORE',
              accountId: '',
              identifiers: [{ type: 'mobile', value: mobile }],
              commChannels: [],
              fields: {},
            },
          ]
        : []),
    ],
    extendedFields: {},
    subscriptions: lineIds.length > 0 || optIn ? [subscription('BULK'), subscription('TRANS')] : [],
    subscriptionHistory: [],
  };
}

const facts = identityFacts;

/** A right state: the friend on its own customer, the linked user on their member, the one who left opted out. */
const rightCustomers = (): CustomerSnapshot[] => [
  customer(1, ['Ufriend'], true),
  customer(2, ['Ulinked'], true, MEMBER_MOBILE),
  customer(3, [], false, '66800000001'),
  customer(4, ['Uleaving'], false),
];
const rightRecords = (): Map<string, UserSyncState> =>
  new Map([
    [`${destination}#Ufriend`, { customerId: 1 }],
    [`${destination}#Ulinked`, { customerId: 2, linkedCustomerId: 2 }],
    [`${destination}#Uleaving`, { customerId: 4 }],
  ]);

function problems(
  customers: CustomerSnapshot[],
  {
    records = rightRecords(),
    deleted,
    users = [friend, linked, leaving],
    mergeRequests,
  }: {
    records?: Map<string, UserSyncState>;
    deleted?: IdentityFacts['deletedProfiles'];
    users?: UserHistory[];
    mergeRequests?: MergeRequestStory[];
  } = {},
): string[] {
  const inputs: IdentityInputs = {
    users,
    plan,
    facts: facts(deleted),
    capillary: {
      customers,
      mergeRequests: [],
      behaviouralEvents: { posted: [], duplicates: {}, overLimit: 0 },
      loyalty: {},
    },
    records,
    nonceConsumers: new Map([['nonce-1', link.webhookEventId]]),
    lineAccountIds: { th: account },
    registration: 'instore+line',
    ...(mergeRequests ? { mergeRequests } : {}),
  };
  return judgeIdentity(inputs).problems.map(
    (problem) => `${problem.userId} ${problem.kind}: ${problem.detail.split(' (')[0]}`,
  );
}

describe('chaos identity oracle', () => {
  it('reports nothing when every friend, linked user and former friend is where the invariant says', () => {
    expect(problems(rightCustomers())).toEqual([]);
  });

  it('reports a LINE id left on a merged-away victim (the survivor carries it too)', () => {
    const customers = [...rightCustomers(), customer(5, ['Ufriend'], true)];
    expect(problems(customers)).toEqual(
      expect.arrayContaining([
        'Ufriend identity: friend on exactly one customer carrying its LINE profile: carried by 1, 5',
        'Ufriend duplicate: carried by 1, 5',
      ]),
    );
  });

  it('judges a linked user by the newest merge request into their member: rejected, they stay on their own customer', () => {
    // the linked user on their anonymous customer 6, the record on no member
    const customers = [...rightCustomers().filter((each) => each.id !== 2), customer(2, [], false, MEMBER_MOBILE)];
    customers.push(customer(6, ['Ulinked'], true));
    const records = rightRecords();
    records.set(`${destination}#Ulinked`, { customerId: 6 });
    const request = (id: number, fate: MergeRequestStory['fate']): MergeRequestStory => ({
      id,
      victimId: 6,
      survivorId: 2,
      status: fate === 'rejected' ? 'REJECTED' : 'APPROVED',
      fate,
    });
    expect(problems(customers, { records, mergeRequests: [request(1, 'rejected')] })).toEqual([]);
    // an older rejection, then a request approved at once: the user belongs on the member
    expect(problems(customers, { records, mergeRequests: [request(1, 'rejected'), request(2, 'at-once')] })).toContain(
      'Ulinked identity: linked: on their member: member 2, carried by 6',
    );
  });

  it('reports a friend on no customer', () => {
    const customers = rightCustomers().filter((each) => each.id !== 1);
    expect(problems(customers)).toContain(
      'Ufriend identity: friend on exactly one customer carrying its LINE profile: carried by none',
    );
  });

  it('reports a linked user left on their anonymous customer instead of the member', () => {
    const customers = [
      customer(1, ['Ufriend'], true),
      customer(2, [], false, MEMBER_MOBILE),
      customer(6, ['Ulinked'], true),
      customer(4, ['Uleaving'], false),
    ];
    expect(problems(customers)).toContain('Ulinked identity: linked: on their member: member 2, carried by 6');
  });

  it('takes a linked user who is no friend here on no customer, but reports them on another one than the member', () => {
    // The person linked, then left: in this channel their LINE profile never reached Capillary.
    const left = {
      ...linked,
      events: [...linked.events, unfollowEvent('Ulinked', 3000)],
      actions: [...linked.actions, 'unfollow' as const],
    };
    const offMember = rightCustomers().map((each) => (each.id === 2 ? customer(2, [], false, MEMBER_MOBILE) : each));
    expect(problems(offMember, { users: [friend, left, leaving] })).toEqual([]);
    const elsewhere = [...offMember, customer(6, ['Ulinked'], false)];
    expect(problems(elsewhere, { users: [friend, left, leaving] })).toContain(
      'Ulinked identity: linked: on their member: member 2, carried by 6',
    );
  });

  it('takes a user who links with no follow in the run as a friend from before it (LINE sends accountLink only to friends)', () => {
    const friendBefore = { ...linked, events: [link], actions: ['link' as const] };
    expect(problems(rightCustomers(), { users: [friend, friendBefore, leaving] })).toEqual([]);
    const optedOut = rightCustomers().map((each) =>
      each.id === 2 ? customer(2, ['Ulinked'], false, MEMBER_MOBILE) : each,
    );
    expect(problems(optedOut, { users: [friend, friendBefore, leaving] })).toEqual([
      'Ulinked identity: subscription as LINE implies: {"BULK":"OPTOUT","TRANS":"OPTOUT"} on 2, friend true',
    ]);
  });

  it('reports a user whose customer was deleted on a PII request still carried, and a record not forgotten', () => {
    const deleted = [{ lineUserId: 'Uleaving', accountId: account, at: 1600, notified: true }];
    expect(problems(rightCustomers(), { deleted })).toEqual([
      'Uleaving identity: forgotten: on no customer: carried by 4',
      'Uleaving identity: record names the customer and member: {"customerId":4,"carrier":4}',
    ]);
  });

  it('asks no forgotten mark of a record whose deletion Capillary never notified, only that it names no live customer', () => {
    const customers = rightCustomers().filter((each) => each.id !== 4);
    const deleted = [{ lineUserId: 'Uleaving', accountId: account, at: 1600, notified: false }];
    expect(problems(customers, { deleted })).toEqual([]);
    const unmarked = rightRecords().set(`${destination}#Uleaving`, { subscription: 'OPTOUT' });
    expect(problems(customers, { deleted, records: unmarked })).toEqual([]);
    const notified = [{ ...deleted[0]!, notified: true }];
    expect(problems(customers, { deleted: notified, records: unmarked })).toEqual([
      'Uleaving identity: record names the customer and member: {}',
    ]);
  });

  it('reports a friend registered again by a follow older than the PII deletion; a follow after it is a new consent', () => {
    // the follow (1000) was applied after Capillary deleted customer 1 (1600), before the notice: it registered 5
    const deleted = [{ lineUserId: 'Ufriend', accountId: account, at: 1600, notified: true }];
    const customers = [...rightCustomers().filter((each) => each.id !== 1), customer(5, ['Ufriend'], true)];
    const records = rightRecords().set(`${destination}#Ufriend`, { customerId: 5 });
    expect(problems(customers, { deleted, records })).toEqual([
      'Ufriend identity: forgotten: on no customer: carried by 5',
      'Ufriend identity: record names the customer and member: {"customerId":5,"carrier":5}',
    ]);
    const forgotten = rightRecords().set(`${destination}#Ufriend`, { forgottenAt: 1600 });
    const withoutLineProfile = [...rightCustomers().filter((each) => each.id !== 1), customer(5, [], false)];
    expect(problems(withoutLineProfile, { deleted, records: forgotten })).toEqual([]);
    const refollowed: UserHistory = {
      ...friend,
      events: [...friend.events, followEvent('Ufriend', 1700)],
      actions: ['follow', 'follow'],
    };
    expect(problems(customers, { deleted, records, users: [refollowed, linked, leaving] })).toEqual([]);
  });

  it('reports an opt-in left on a customer that no longer carries the LINE profile, and a stranger LINE id', () => {
    const customers = [...rightCustomers(), customer(7, [], true), customer(8, ['Ustranger'], false)];
    expect(problems(customers)).toEqual([
      '- identity: customer 7: opted in on account account-th without a LINE profile of it',
      '- identity: customer 8: carries 1 LINE id(s) of no user of the run',
    ]);
  });

  it('reports a record that names another customer than the one carrying the profile', () => {
    const records = rightRecords().set(`${destination}#Ufriend`, { customerId: 4 });
    expect(problems(rightCustomers(), { records })).toEqual([
      'Ufriend identity: record names the customer and member: {"customerId":4,"carrier":1}',
    ]);
  });
});
