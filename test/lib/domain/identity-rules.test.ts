import {
  CAPILLARY_DELETE_TYPE,
  CAPILLARY_MERGE_TYPE,
  identityNoticeOf,
  identityVerdict,
  MERGE_REJECTED,
  replacementAfter,
  type IdentityNotice,
} from '../../../lib/domain/identity-rules';
import type { UserSyncState } from '../../../lib/domain/sync-rules';

const NOW = 9_000;
const merge: IdentityNotice = { type: CAPILLARY_MERGE_TYPE, survivor: 20, victim: 10 };
const deletion: IdentityNotice = { type: CAPILLARY_DELETE_TYPE, customerId: 10 };

describe('identityNoticeOf', () => {
  it.each([
    [CAPILLARY_MERGE_TYPE, { survivor: 20, victim: 10 }, merge],
    [
      CAPILLARY_MERGE_TYPE,
      { customerId: 10, mergeRequestId: '77' },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '77' },
    ],
    [
      CAPILLARY_MERGE_TYPE,
      { customerId: 10, mergeRequestId: '77', rejected: true },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '77', rejected: true },
    ],
    [CAPILLARY_MERGE_TYPE, { customerId: 10, rejected: 'yes' }, { type: CAPILLARY_MERGE_TYPE, customerId: 10 }],
    [CAPILLARY_DELETE_TYPE, { customerId: 10 }, deletion],
    [CAPILLARY_MERGE_TYPE, { survivor: 10, victim: 10 }, undefined],
    [CAPILLARY_MERGE_TYPE, { survivor: 20 }, undefined],
    [CAPILLARY_DELETE_TYPE, { customerId: '10' }, undefined],
    [CAPILLARY_DELETE_TYPE, { customerId: -1 }, undefined],
    [CAPILLARY_DELETE_TYPE, null, undefined],
    ['follow', { customerId: 10 }, undefined],
  ])('%s %j → %j', (type, raw, notice) => {
    expect(identityNoticeOf(type, raw)).toEqual(notice);
  });
});

describe('identityVerdict', () => {
  it.each<[string, UserSyncState, IdentityNotice, ReturnType<typeof identityVerdict>]>([
    ['a merge re-points the customer', { customerId: 10 }, merge, { action: 'repointed', change: { customerId: 20 } }],
    [
      'a merge re-points a linked member (customer and member)',
      { customerId: 10, linkedCustomerId: 10, link: { status: 'linked', at: 1 } },
      merge,
      { action: 'repointed', change: { customerId: 20, linkedCustomerId: 20 } },
    ],
    [
      'a merge of the anonymous customer into the pending member settles the link',
      { customerId: 10, linkedCustomerId: 20, link: { status: 'merge-pending', detail: 'request 5', at: 1 } },
      merge,
      { action: 'link-settled', change: { customerId: 20, link: { status: 'linked', at: NOW } } },
    ],
    ['a merge of another customer changes nothing', { customerId: 30 }, merge, { action: 'not-named', change: {} }],
    ['a merge applied already changes nothing', { customerId: 20 }, merge, { action: 'not-named', change: {} }],
    [
      'an approved merge request settles the pending link that filed it',
      { customerId: 10, linkedCustomerId: 20, link: { status: 'merge-pending', detail: 'request 5', at: 1 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '5' },
      { action: 'link-settled', change: { customerId: 20, link: { status: 'linked', at: NOW } } },
    ],
    [
      'an approved merge request (no request id, found by the member) settles an unconfirmed one',
      { customerId: 10, linkedCustomerId: 20, link: { status: 'merge-pending', detail: 'request-unconfirmed', at: 1 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 20 },
      { action: 'link-settled', change: { customerId: 20, link: { status: 'linked', at: NOW } } },
    ],
    [
      'an approved merge request filed by another link changes nothing',
      { customerId: 10, linkedCustomerId: 20, link: { status: 'merge-pending', detail: 'request 5', at: 1 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '6' },
      { action: 'not-named', change: {} },
    ],
    [
      'a rejected merge request fails the pending link that filed it: the user stays on the anonymous customer',
      {
        customerId: 10,
        linkedCustomerId: 20,
        link: { status: 'merge-pending', detail: 'request 5', at: 1 },
        linkRefs: ['linkref#a'],
      },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '5', rejected: true },
      {
        action: 'link-rejected',
        change: {
          linkedCustomerId: null,
          linkRefs: null,
          link: { status: 'failed', detail: MERGE_REJECTED, at: NOW },
        },
      },
    ],
    [
      'a rejected merge request filed by another link changes nothing',
      { customerId: 10, linkedCustomerId: 20, link: { status: 'merge-pending', detail: 'request 5', at: 1 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '6', rejected: true },
      { action: 'not-named', change: {} },
    ],
    [
      'a rejected merge request of a link the user left (unlinked since) changes nothing',
      { customerId: 30, link: { status: 'unlinked', at: 2 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 10, mergeRequestId: '5', rejected: true },
      { action: 'not-named', change: {} },
    ],
    [
      'an approved merge request for a link that is not pending changes nothing',
      { customerId: 20, linkedCustomerId: 20, link: { status: 'linked', at: 1 } },
      { type: CAPILLARY_MERGE_TYPE, customerId: 20 },
      { action: 'not-named', change: {} },
    ],
    [
      'a deletion forgets the user: customer, member, link, subscription, member index; the mark stays',
      { customerId: 10, linkedCustomerId: 10, subscription: 'OPTIN', linkRefs: ['linkref#a'] },
      deletion,
      {
        action: 'forgotten',
        change: {
          customerId: null,
          linkedCustomerId: null,
          link: null,
          subscription: null,
          linkRefs: null,
          forgottenAt: 5_000,
        },
      },
    ],
    [
      'a deletion of another customer changes nothing',
      { customerId: 11 },
      deletion,
      { action: 'not-named', change: {} },
    ],
  ])('%s', (_name, state, notice, verdict) => {
    expect(identityVerdict(state, notice, 5_000, NOW)).toEqual(verdict);
  });

  it('a deletion reaching a record that names no customer any more (an event found it gone first) forgets the user', () => {
    const namingIt = identityVerdict({ customerId: 10, subscription: 'OPTOUT' }, deletion, 5_000, NOW);
    expect(namingIt.action).toBe('forgotten');
    expect(identityVerdict({ subscription: 'OPTOUT' }, deletion, 5_000, NOW)).toEqual(namingIt);
  });
});

describe('a deletion reaching a record that replaced the deleted customer (a follow found it gone before the notice)', () => {
  const FORGOTTEN = {
    customerId: null,
    linkedCustomerId: null,
    link: null,
    subscription: null,
    linkRefs: null,
    forgottenAt: 5_000,
    replaced: null,
  };

  it.each([
    ['older than the deletion', 4_000],
    ['as old as the deletion', 5_000],
  ])(
    'a replacement by a follow %s: forgotten, and what the bridge wrote on the replacement is taken back',
    (_n, at) => {
      const state: UserSyncState = { customerId: 30, subscription: 'OPTIN', replaced: { customerId: 10, at } };
      expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({
        action: 'forgotten',
        change: FORGOTTEN,
        takeBackFrom: 30,
      });
    },
  );

  it('a replacement no follow rests on (an unfollow made it): forgotten, taken back', () => {
    const state: UserSyncState = { customerId: 30, subscription: 'OPTOUT', replaced: { customerId: 10 } };
    expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({
      action: 'forgotten',
      change: FORGOTTEN,
      takeBackFrom: 30,
    });
  });

  it('a record that found it deleted and names no customer since: forgotten, nothing to take back', () => {
    const state: UserSyncState = { subscription: 'OPTOUT', replaced: { customerId: 10 } };
    expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({ action: 'forgotten', change: FORGOTTEN });
  });

  it('a replacement by a follow newer than the deletion is a new consent: kept, only the memory goes', () => {
    const state: UserSyncState = { customerId: 30, subscription: 'OPTIN', replaced: { customerId: 10, at: 5_001 } };
    expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({ action: 'not-named', change: { replaced: null } });
  });

  it('a replaced record linked since: forgotten, the member index entries go, the profile comes off the member', () => {
    const state: UserSyncState = {
      customerId: 40,
      linkedCustomerId: 40,
      link: { status: 'linked', at: 4_500 },
      linkRefs: ['linkref#a'],
      replaced: { customerId: 10, at: 4_000 },
    };
    expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({
      action: 'forgotten',
      change: FORGOTTEN,
      takeBackFrom: 40,
    });
  });

  it('the deletion of another customer leaves the memory of this one; forgetting by name clears any memory', () => {
    const state: UserSyncState = { customerId: 30, replaced: { customerId: 11, at: 4_000 } };
    expect(identityVerdict(state, deletion, 5_000, NOW)).toEqual({ action: 'not-named', change: {} });
    const named: UserSyncState = { customerId: 10, replaced: { customerId: 11, at: 4_000 } };
    expect(identityVerdict(named, deletion, 5_000, NOW)).toEqual({ action: 'forgotten', change: FORGOTTEN });
  });
});

describe('replacementAfter', () => {
  const follow = { type: 'follow', webhookEventId: 'F', timestamp: 4_000 };
  const unfollow = { ...follow, type: 'unfollow' };

  it.each<[string, typeof follow, UserSyncState, Parameters<typeof replacementAfter>[2], unknown]>([
    [
      'a follow that replaced a deleted customer remembers it',
      follow,
      {},
      { customerId: 30, deleted: 10 },
      { customerId: 10, at: 4_000 },
    ],
    [
      'a follow put on no customer (registration on link) remembers the deleted one, with no consent',
      follow,
      {},
      { customerId: undefined, deleted: 10 },
      { customerId: 10 },
    ],
    [
      'an unfollow that found nobody holding the profile remembers the deleted one: only that leads its notice here',
      unfollow,
      {},
      { customerId: undefined, deleted: 10 },
      { customerId: 10 },
    ],
    [
      'a follow on a customer that was not deleted remembers nothing',
      follow,
      {},
      { customerId: 30, deleted: undefined },
      undefined,
    ],
    [
      'a later follow is a newer consent: its time',
      follow,
      { replaced: { customerId: 10, at: 1_000 } },
      { customerId: 30, deleted: undefined },
      { customerId: 10, at: 4_000 },
    ],
    [
      'an unfollow gives no consent: the memory stays',
      unfollow,
      { replaced: { customerId: 10, at: 1_000 } },
      { customerId: 30, deleted: undefined },
      undefined,
    ],
    [
      'an unfollow that replaced a deleted customer (another one held the profile) remembers it, with no consent',
      unfollow,
      {},
      { customerId: 30, deleted: 10 },
      { customerId: 10 },
    ],
    [
      'a follow only recorded (no customer) leaves the memory',
      follow,
      { replaced: { customerId: 10, at: 1_000 } },
      { customerId: undefined, deleted: undefined },
      undefined,
    ],
  ])('%s', (_name, event, state, applied, replaced) => {
    expect(replacementAfter(event, state, applied)).toEqual(replaced);
  });
});
