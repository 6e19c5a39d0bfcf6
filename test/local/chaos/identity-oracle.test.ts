/**
 * The identity oracle's merge-request rules (CAPILLARY_LINK_ANONYMOUS=merge-request), fed Capillary states by hand: a
 * request filed twice for one (victim, survivor), a pending merge whose user left their anonymous customer or whose
 * record forgot the pending member, an approved and notified merge whose record still says merge-pending or names the
 * victim; an approval with no notification is counted, not failed.
 */
import type { UserSyncState } from '../../../lib/domain/sync-rules';
import type { MergeRequestFate, MergeRequestStory } from '../../../local/chaos/identity-merge-requests';
import { judgeIdentity } from '../../../local/chaos/identity-oracle';
import type { IdentityPlan } from '../../../local/chaos/identity-scenario';
import type { UserHistory } from '../../../local/chaos/scenario';
import { accountLinkEvent } from '../../../local/line-event-factory';
import type { CustomerSnapshot } from '../../../local/standins/capillary-standin';
import { account, destination, identityFacts, link, linked, MEMBER_MOBILE, plan } from '../../support/identity-world';

const [ANONYMOUS, MEMBER] = [7, 2];

const facts = identityFacts();

/** A customer carrying the user's LINE profile (opted in), or an INSTORE member with that mobile number. */
function customer(id: number, { line, mobile }: { line?: boolean; mobile?: string }): CustomerSnapshot {
  const profile = (source: string, accountId: string, type: string, value: string) => ({
    source,
    accountId,
    identifiers: [{ type, value }],
    commChannels: [],
    fields: {},
  });
  const optIn = (priority: 'BULK' | 'TRANS') => ({
    channel: 'LINE',
    accountId: account,
    priority,
    type: 'OPTIN' as const,
    sourceName: 'LINE',
  });
  return {
    id,
    profiles: [
      ...(line ? [profile('LINE', account, 'line', 'Ulinked')] : []),
      ...(mobile ? [profile('INSTORE', '', 'mobile', mobile)] : []),
    ],
    extendedFields: {},
    subscriptions: line ? [optIn('BULK'), optIn('TRANS')] : [],
    subscriptionHistory: [],
  };
}

const request = (fate: MergeRequestFate, id = 13000000): MergeRequestStory => ({
  id,
  victimId: ANONYMOUS,
  survivorId: MEMBER,
  status: fate === 'pending' ? 'PENDING' : 'APPROVED',
  fate,
});

/** The world while the request is pending: the anonymous customer carries the LINE profile, the member does not. */
const pendingWorld = () => [customer(ANONYMOUS, { line: true }), customer(MEMBER, { mobile: MEMBER_MOBILE })];
/** The world once approved: the member carries it, the anonymous customer is gone. */
const mergedWorld = () => [customer(MEMBER, { line: true, mobile: MEMBER_MOBILE })];
const pendingRecord: UserSyncState = {
  customerId: ANONYMOUS,
  linkedCustomerId: MEMBER,
  link: { status: 'merge-pending', detail: 'request 13000000', at: 2000 },
};
const linkedRecord: UserSyncState = {
  customerId: MEMBER,
  linkedCustomerId: MEMBER,
  link: { status: 'linked', at: 2100 },
};

/** The same user whose last link then names a member carrying another LINE user: it fails, and records so. */
const failing = accountLinkEvent('Ulinked', 2500, 'nonce-2');
const linkedThenFailed: UserHistory = {
  ...linked,
  events: [...linked.events, failing],
  actions: [...linked.actions, 'link'],
  links: [...linked.links, { webhookEventId: failing.webhookEventId, nonce: 'nonce-2' }],
};
const planWithFailing: IdentityPlan = {
  ...plan,
  links: new Map([...plan.links, [failing.webhookEventId, { target: 'taken', via: 'accountLink', replayed: false }]]),
};

function judge(
  customers: CustomerSnapshot[],
  record: UserSyncState,
  mergeRequests: MergeRequestStory[],
  user: { history: UserHistory; plan: IdentityPlan } = { history: linked, plan },
) {
  const verdict = judgeIdentity({
    users: [user.history],
    plan: user.plan,
    facts,
    capillary: {
      customers,
      mergeRequests,
      behaviouralEvents: { posted: [], duplicates: {}, overLimit: 0 },
      loyalty: {},
    },
    records: new Map([[`${destination}#Ulinked`, record]]),
    nonceConsumers: new Map([['nonce-1', link.webhookEventId]]),
    lineAccountIds: { th: account },
    registration: 'instore+line',
    mergeRequests,
  });
  return {
    problems: verdict.problems.map((problem) => problem.detail.split(' (th: ')[0]),
    silentlyApprovedStillPending: verdict.silentlyApprovedStillPending,
  };
}

describe('chaos identity oracle: merge requests', () => {
  it('takes a pending request as right: the LINE id on the anonymous customer, the record merge-pending on the member', () => {
    expect(judge(pendingWorld(), pendingRecord, [request('pending')])).toEqual({
      problems: [],
      silentlyApprovedStillPending: 0,
    });
  });

  it('reports a pending merge whose LINE id left the anonymous customer, or whose record does not name the member', () => {
    const elsewhere = [
      customer(ANONYMOUS, {}),
      customer(MEMBER, { mobile: MEMBER_MOBILE }),
      customer(9, { line: true }),
    ];
    expect(judge(elsewhere, pendingRecord, [request('pending')]).problems).toContain(
      'merge pending: on the anonymous customer, the record pending on the member: request 13000000 of victim 7, carried by 9, record {"customerId":7,"linkedCustomerId":2,"link":"merge-pending"}',
    );
    // on the member, the record still naming the victim
    const moved = [customer(ANONYMOUS, {}), customer(MEMBER, { line: true, mobile: MEMBER_MOBILE })];
    expect(judge(moved, pendingRecord, [request('pending')]).problems).toEqual([
      'record names the customer and member: {"customerId":7,"linkedCustomerId":2,"carrier":2,"memberId":2}',
    ]);
    const forgotten = { ...pendingRecord, linkedCustomerId: undefined, link: undefined };
    expect(judge(pendingWorld(), forgotten, [request('pending')]).problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^merge pending: on the anonymous customer/)]),
    );
  });

  it("takes a user the bridge moved onto their member as linked, though a request into it (not this link's) is pending", () => {
    const moved = [customer(ANONYMOUS, {}), customer(MEMBER, { line: true, mobile: MEMBER_MOBILE })];
    expect(judge(moved, linkedRecord, [request('pending')])).toEqual({ problems: [], silentlyApprovedStillPending: 0 });
  });

  it('judges a pending merge by the request of the customer the user is on, not one an unlink left behind', () => {
    const OWN = 8;
    const world = [customer(ANONYMOUS, {}), customer(OWN, { line: true }), customer(MEMBER, { mobile: MEMBER_MOBILE })];
    const record = { ...pendingRecord, customerId: OWN, link: { ...pendingRecord.link!, detail: 'request 13000001' } };
    const left = request('pending');
    const current = { ...request('pending', 13000001), victimId: OWN };
    expect(judge(world, record, [left, current]).problems).toEqual([]);
  });

  it("takes a later failed link's status instead of merge-pending, but only when the user's last link failed", () => {
    const failed = {
      ...pendingRecord,
      link: { status: 'failed' as const, detail: 'member-has-another-line-user', at: 2500 },
    };
    expect(
      judge(pendingWorld(), failed, [request('pending')], { history: linkedThenFailed, plan: planWithFailing })
        .problems,
    ).toEqual([]);
    expect(judge(pendingWorld(), failed, [request('pending')]).problems).toEqual([
      expect.stringMatching(/^merge pending: on the anonymous customer, the record pending on the member/),
    ]);
  });

  it('takes an approved and notified merge as right once the record is linked to the member', () => {
    for (const fate of ['once', 'duplicated', 'late', 'at-once'] as const)
      expect(judge(mergedWorld(), linkedRecord, [request(fate)]).problems).toEqual([]);
  });

  it('reports an approved and notified merge whose record still says merge-pending, or still names the victim', () => {
    const stillPending = { ...linkedRecord, link: pendingRecord.link };
    expect(judge(mergedWorld(), stillPending, [request('once')]).problems).toEqual([
      'merge approved and notified: the record linked to the member: request 13000000 (once) into member 2, record {"customerId":2,"linkedCustomerId":2,"link":"merge-pending"}',
    ]);
    const namesVictim = { ...linkedRecord, customerId: ANONYMOUS };
    expect(judge(mergedWorld(), namesVictim, [request('late')]).problems).toEqual([
      'merge approved and notified: the record linked to the member: request 13000000 (late) into member 2, record {"customerId":7,"linkedCustomerId":2,"link":"linked"}',
    ]);
  });

  it('counts, and does not fail, a merge approved with no notification whose record still names the victim as merge-pending', () => {
    expect(judge(mergedWorld(), pendingRecord, [request('silent')])).toEqual({
      problems: [],
      silentlyApprovedStillPending: 1,
    });
  });

  it('still reports an approved merge that left the user off their member', () => {
    expect(judge(pendingWorld(), linkedRecord, [request('silent')]).problems).toContain(
      'linked: on their member: member 2, carried by 7',
    );
  });

  it('reports a second request Capillary took for the same victim and survivor', () => {
    const twice = [request('pending'), { ...request('pending', 13000001) }];
    expect(judge(pendingWorld(), pendingRecord, twice).problems).toContain(
      'merge request filed at most once per link: 7 into 2 filed as 13000000, 13000001',
    );
  });
});
