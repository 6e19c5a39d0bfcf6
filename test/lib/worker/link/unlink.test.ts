import { bridgeUnlinkEvent } from '../../../../lib/link-api/bridge-events';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import type { WorkerHarness } from '../../../../local/rigs/worker-rig';
import {
  followThenLink,
  holders,
  lineSubscription,
  MOBILE,
  nonceFor,
  startLinkHarness,
  userKey,
} from '../../../support/link-harness';

const OTHER_MOBILE = '66898765432';

describe('worker: unlinking', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  /** A friend (their follow registered them) linked to a store member by mobile. */
  async function linkedFriend() {
    harness = await startLinkHarness();
    return followThenLink(harness);
  }

  it('unlink takes the LINE id off the member, answers in chat, and gives the friend a customer of their own again at once', async () => {
    const { memberId, userId } = await linkedFriend();
    // Act: unlink from chat
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    const [holder, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect(holder).not.toBe(memberId);
    expect(lineSubscription(harness, holder!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(harness.line.state().sent.at(-1)).toMatchObject({
      via: 'reply',
      messages: [{ type: 'text', text: expect.stringContaining('no longer linked') }],
    });
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ customerId: holder, subscription: 'OPTIN', link: { status: 'unlinked' } });
    expect(record?.linkedCustomerId).toBeUndefined();
    expect(record?.linkRefs).toBeUndefined();
    // The member index no longer points at the user.
    expect(
      await harness.deps.link.nonces.findLinkedUser(DESTINATION, { kind: 'mobile', value: MOBILE }),
    ).toBeUndefined();
    // Act: the next follow keeps that customer
    await harness.run([followEvent(userId, Date.now() + 1000)]);
    expect(holders(harness, userId)).toEqual([holder]);
  });

  /** Registered (the INSTORE externalId), linked, then Member Care merges the registration into the member. */
  async function linkedThenMergedIntoMember() {
    const { memberId, userId, anonymousId } = await linkedFriend();
    harness.capillary.mergeCustomers(memberId, anonymousId);
    return { memberId, userId };
  }

  it('gives an unlinked friend a customer of their own, not the member that Capillary merged their registration into', async () => {
    // Prepare
    const { memberId, userId } = await linkedThenMergedIntoMember();
    const externalId = { type: 'externalId', value: `line_${userId}` };
    expect(harness.capillary.customersWithIdentifier('externalId', externalId.value).map((c) => c.id)).toEqual([
      memberId,
    ]);
    // Act
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    // Assess: a new customer of their own, opted in; the member keeps its own mobile and nothing of the registration
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    const [own, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect(own).not.toBe(memberId);
    expect(lineSubscription(harness, own!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(harness.capillary.customersWithIdentifier('externalId', externalId.value).map((c) => c.id)).toEqual([own]);
    expect(harness.capillary.customersWithIdentifier('mobile', MOBILE).map((c) => c.id)).toEqual([memberId]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: own, link: { status: 'unlinked' } });
  });

  it('registers a user who blocked the account, unlinked, then followed again on a customer of their own, not the member that Capillary merged their registration into', async () => {
    const { memberId, userId } = await linkedThenMergedIntoMember();
    await harness.run([unfollowEvent(userId, 3000)]);
    await harness.run([bridgeUnlinkEvent(userId, Date.now(), memberId)]);
    expect(holders(harness, userId)).toEqual([]);
    // Act
    await harness.run([followEvent(userId, Date.now() + 1000)]);
    // Assess
    const [own, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect(own).not.toBe(memberId);
    expect(lineSubscription(harness, own!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });

  it('leaves a user who blocked the account on no customer after an unlink (not a friend), opted out on the member', async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000), unfollowEvent(userId, 1500)]);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    await harness.run([bridgeUnlinkEvent(userId, Date.now())]);
    expect(holders(harness, userId)).toEqual([]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect((await harness.store.read(userKey(userId)))?.customerId).toBeUndefined();
  });

  it('opts out and names the customer an interrupted unlink registered, when the friend blocked the account meanwhile', async () => {
    // Prepare: a linked friend
    const { memberId, userId } = await linkedFriend();
    // The unlink's opt-out and detach on the member go through; its call that gives the friend a customer of their own
    // (the registration's third POST) is taken and its answer lost; its retries meet a Capillary that is down
    const customers = { method: 'POST', pathPrefix: '/v2/customers' };
    harness.capillary.injectFault({ ...customers, kind: 'lost-response', skip: 3, times: 1 });
    harness.capillary.injectFault({ ...customers, status: 503, times: 2 });
    const unlinkEvent = bridgeUnlinkEvent(userId, Date.now(), memberId);
    expect((await harness.run([unlinkEvent])).batchItemFailures).toHaveLength(1);
    expect(await (await fetch(`${harness.capillary.url}/__admin/faults`)).json()).toEqual({ pending: [] });
    const [own, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect(own).not.toBe(memberId);
    expect(lineSubscription(harness, own!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    // The unlink's claim expires; the friend blocks the account, applied where the record still points (the member)
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => realNow + 61_000);
    await harness.run([unfollowEvent(userId, 3000)]);
    jest.restoreAllMocks();
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', subscription: 'OPTOUT' });
    // Act: the unlink is retried
    expect((await harness.run([unlinkEvent], 2)).batchItemFailures).toEqual([]);
    // Assess: no customer carries the profile opted in behind the record's back; the record names the one that does
    expect(holders(harness, userId)).toEqual([own]);
    expect(lineSubscription(harness, own!)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: own,
      subscription: 'OPTOUT',
      link: { status: 'unlinked' },
    });
  });

  it('unlinks by customer only the member it names: after a re-link to another member, nothing changes', async () => {
    harness = await startLinkHarness();
    const firstMember = harness.capillary.addMember({ mobile: MOBILE });
    const secondMember = harness.capillary.addMember({ mobile: OTHER_MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    await harness.run([
      accountLinkEvent(userId, 3000, await nonceFor(harness, userId, { kind: 'mobile', value: OTHER_MOBILE })),
    ]);
    // The re-link removed the first member's index entries and points the second's at the user.
    const { nonces } = harness.deps.link;
    expect(await nonces.findLinkedUser(DESTINATION, { kind: 'mobile', value: MOBILE })).toBeUndefined();
    expect(await nonces.findLinkedUser(DESTINATION, { kind: 'mobile', value: OTHER_MOBILE })).toEqual({
      userId,
      memberId: secondMember,
    });
    // Act: an unlink queued for the first member (e.g. before the re-link) arrives
    await harness.run([bridgeUnlinkEvent(userId, Date.now(), firstMember)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'not-linked' });
    expect(holders(harness, userId)).toEqual([secondMember]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: secondMember,
      linkedCustomerId: secondMember,
    });
  });

  it('withdraws the merge request of a merge-pending link and leaves its anonymous customer for a customer of their own', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId, anonymousId } = await followThenLink(harness);
    // Act
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    // Assess: the request is withdrawn; the anonymous customer keeps neither the LINE id nor the opt-in
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(harness.capillary.state().mergeRequests).toEqual([
      expect.objectContaining({ victimId: anonymousId, survivorId: memberId, status: 'REJECTED' }),
    ]);
    const [own, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect([own === anonymousId, own === memberId]).toEqual([false, false]);
    expect(lineSubscription(harness, own!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(lineSubscription(harness, anonymousId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: own, link: { status: 'unlinked' } });
  });

  it('unlinks a merge-pending link whose request Capillary approved in between: the LINE id leaves the member', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId } = await followThenLink(harness);
    harness.capillary.approveMergeRequest(harness.capillary.state().mergeRequests[0]!.id);
    expect(holders(harness, userId)).toEqual([memberId]);
    // Act: the unlink comes before the merge's notification
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    const [own, ...others] = holders(harness, userId);
    expect([others, own === memberId]).toEqual([[], false]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });

  it('unlinks from the link API (bridge.unlink) without answering in chat', async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    await harness.run([bridgeUnlinkEvent(userId, Date.now(), memberId)]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(holders(harness, userId)).not.toContain(memberId);
    expect(harness.line.state().sent).toEqual([]);
  });

  it('answers an unlink of a user who is not linked', async () => {
    harness = await startLinkHarness();
    await harness.run([postbackEvent(lineUserId(), Date.now(), 'action=unlink')]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'not-linked' });
    expect(harness.line.state().sent).toEqual([
      expect.objectContaining({
        via: 'reply',
        messages: [expect.objectContaining({ text: expect.stringContaining('not linked') })],
      }),
    ]);
  });
});
