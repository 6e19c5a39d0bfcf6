import { bridgeLinkEvent, bridgeUnlinkEvent } from '../../../../lib/link-api/bridge-events';
import { LinkNonceStore } from '../../../../lib/store/link-nonce-store';
import {
  accountLinkEvent,
  followEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import {
  LINE_ACCOUNT_ID,
  RIG_CHANNEL,
  startWorkerHarness,
  type WorkerHarness,
} from '../../../../local/rigs/worker-rig';
import {
  apiCalls,
  customer,
  dieBeforeRecording,
  expireClaim,
  followThenLink,
  holders,
  lineSubscription,
  MOBILE,
  nonceFor,
  startLinkHarness,
  userKey,
} from '../../../support/link-harness';

describe('worker: linking a follower to the brand member', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  it.each([
    ['mobile', { mobile: MOBILE }, { kind: 'mobile', value: MOBILE }],
    ['email', { email: 'somchai@example.com' }, { kind: 'email', value: 'somchai@example.com' }],
    ['externalId', { externalId: 'POS-000123' }, { kind: 'externalId', value: 'POS-000123' }],
  ] as const)(
    "links by %s: the member gets this channel's LINE profile opted in; the anonymous customer loses it and is opted out",
    async (_kind, identifiers, reference) => {
      // Prepare: a store member, and the same person following (which made an anonymous customer)
      harness = await startLinkHarness();
      const memberId = harness.capillary.addMember(identifiers);
      const userId = lineUserId();
      await harness.run([followEvent(userId, 1000)]);
      const [anonymousId] = holders(harness, userId);
      const nonce = await nonceFor(harness, userId, reference);
      // Act
      const response = await harness.run([accountLinkEvent(userId, 2000, nonce)]);
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
      expect(holders(harness, userId)).toEqual([memberId]);
      expect(
        customer(harness, memberId)!
          .profiles.map((p) => p.source)
          .sort(),
      ).toEqual(['INSTORE', 'LINE']);
      expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
      expect(anonymousId).not.toBe(memberId);
      expect(lineSubscription(harness, anonymousId!)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
      expect(await harness.store.read(userKey(userId))).toMatchObject({
        customerId: memberId,
        linkedCustomerId: memberId,
        subscription: 'OPTIN',
        link: { status: 'linked' },
        lastEventTimestamp: 1000,
        lastLinkEventTimestamp: 2000,
      });
    },
  );

  it('takes the registration externalId a merge carried onto the previous member off it on a re-link, so an unlink later gives a customer of their own', async () => {
    // Prepare: registered, linked to a first member, the old customer merged into it by Member Care
    harness = await startLinkHarness();
    const firstMember = harness.capillary.addMember({ mobile: MOBILE });
    const secondMember = harness.capillary.addMember({ mobile: '66898765432' });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    harness.capillary.mergeCustomers(firstMember, anonymousId!);
    const carriers = () => harness.capillary.customersWithIdentifier('externalId', `line_${userId}`).map((c) => c.id);
    expect(carriers()).toEqual([firstMember]);
    // Act: re-link to the second member
    await harness.run([
      accountLinkEvent(userId, 3000, await nonceFor(harness, userId, { kind: 'mobile', value: '66898765432' })),
    ]);
    // Assess
    expect(holders(harness, userId)).toEqual([secondMember]);
    expect(carriers()).toEqual([]);
    expect(harness.capillary.customersWithIdentifier('mobile', MOBILE).map((c) => c.id)).toEqual([firstMember]);
    // Act: unlink through the link API
    await harness.run([bridgeUnlinkEvent(userId, Date.now(), secondMember)]);
    const [own, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect([firstMember, secondMember]).not.toContain(own);
  });

  it("orders links apart from follows: a link delivered after a newer unfollow still links, with the newest follow's state", async () => {
    // Prepare
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000), unfollowEvent(userId, 3000)]);
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    // Act: the link happened at 2000 but arrives after the unfollow at 3000; then the user follows again
    await harness.run([accountLinkEvent(userId, 2000, nonce), followEvent(userId, 4000)]);
    // Assess
    expect(harness.settled.slice(-2).map((s) => s.outcome?.result)).toEqual(['link', 'applied']);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('links with the state the user has now: a follower who blocked the account is attached opted out', async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000), unfollowEvent(userId, 1500)]);
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });

  it('uses a nonce once: a redelivery is a duplicate, a second event with the same nonce is rejected, neither calls Capillary', async () => {
    harness = await startLinkHarness();
    harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    const link = accountLinkEvent(userId, 2000, nonce);
    await harness.run([link]);
    const callsAfterLink = apiCalls(harness).length;
    // Act
    await harness.run([redelivery(link)], 2);
    await harness.run([accountLinkEvent(userId, 3000, nonce)]);
    // Assess
    expect(harness.settled.slice(-2).map((s) => s.outcome)).toEqual([
      { result: 'skipped', reason: 'duplicate' },
      { result: 'rejected', reason: 'consumed-nonce' },
    ]);
    expect(apiCalls(harness)).toHaveLength(callsAfterLink);
  });

  it("rejects a nonce made for another user's link token as impersonation, links nobody, and burns the nonce", async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const [victim, attacker] = [lineUserId(), lineUserId()];
    const nonce = await nonceFor(harness, victim, { kind: 'mobile', value: MOBILE });
    // Act
    const response = await harness.run([
      accountLinkEvent(attacker, 2000, nonce),
      accountLinkEvent(victim, 3000, nonce),
    ]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.map((s) => s.outcome)).toEqual([
      { result: 'rejected', reason: 'impersonation' },
      { result: 'rejected', reason: 'consumed-nonce' },
    ]);
    expect(holders(harness, attacker)).toEqual([]);
    expect(customer(harness, memberId)!.profiles.map((p) => p.source)).toEqual(['INSTORE']);
    expect((await harness.store.read(userKey(attacker)))?.linkedCustomerId).toBeUndefined();
  });

  it.each([
    ['an expired nonce', 'expired-nonce', { expiresInMs: -1 }],
    ['a nonce the link API never made', 'unknown-nonce', undefined],
  ] as const)('acknowledges %s without calling Capillary', async (_case, reason, options) => {
    harness = await startLinkHarness();
    harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    const nonce = options
      ? await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, options)
      : LinkNonceStore.newNonce();
    const response = await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'rejected', reason });
    expect(apiCalls(harness)).toEqual([]);
  });

  it('retries an event whose nonce changed while it was consumed, and links on the retry', async () => {
    // Prepare: the store refuses the first consume as if another delivery of the event had just consumed it
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    const { nonces } = harness.deps.link;
    const consume = nonces.consume.bind(nonces);
    jest.spyOn(nonces, 'consume').mockImplementationOnce(async (...args) => {
      const { record } = await consume(...args);
      return { consumed: false, record: record && { ...record, consumedBy: undefined } };
    });
    const link = accountLinkEvent(userId, 2000, nonce);
    // Act
    const first = await harness.run([link]);
    const retry = await harness.run([link], 2);
    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-2)?.error?.name).toBe('NonceChangedError');
    expect(retry.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
  });

  it('records a member Capillary cannot find as a failed link with the reason, and does not retry it', async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: '66899999999' });
    const response = await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({
      result: 'link',
      action: 'link-failed',
      detail: 'member-not-found',
    });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      link: { status: 'failed', detail: 'member-not-found' },
    });
    expect(holders(harness, userId)).toEqual([anonymousId]);
  });

  it('lets a failed link overtake nothing: an older unlink and an older link delivered after it still apply', async () => {
    // Prepare: a friend linked to a member, who unlinks (t=3000), links to a second member (t=4000), then tries a
    // member Capillary cannot find (t=5000); the failed try is delivered first
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const secondId = harness.capillary.addMember({ mobile: '66898765432' });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    const missing = await nonceFor(harness, userId, { kind: 'mobile', value: '66899999999' });
    const second = await nonceFor(harness, userId, { kind: 'mobile', value: '66898765432' });
    await harness.run([accountLinkEvent(userId, 5000, missing)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'member-not-found' });
    // Act
    await harness.run([bridgeUnlinkEvent(userId, 3000, memberId)]);
    const unlinked = harness.settled.at(-1)?.outcome;
    await harness.run([accountLinkEvent(userId, 4000, second)]);
    // Assess: the failed try changed nothing in Capillary, so neither older event is stale
    expect(unlinked).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: secondId });
    expect(holders(harness, userId)).toEqual([secondId]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: secondId,
      linkedCustomerId: secondId,
      link: { status: 'linked' },
    });
  });

  it('fails a link to a member carrying another LINE user of this account before anything changes', async () => {
    // Prepare: another LINE user is linked to the member already; this user follows (an anonymous customer)
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const [other, userId] = [lineUserId(), lineUserId()];
    await harness.run([
      accountLinkEvent(other, 2000, await nonceFor(harness, other, { kind: 'mobile', value: MOBILE })),
    ]);
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    // Act
    const response = await harness.run([
      accountLinkEvent(userId, 3000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    // Assess: the user keeps their customer, its LINE profile and its opt-in; the member keeps the other user
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({
      result: 'link',
      action: 'link-failed',
      detail: 'member-has-another-line-user',
    });
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(lineSubscription(harness, anonymousId!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(holders(harness, other)).toEqual([memberId]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      link: { status: 'failed', detail: 'member-has-another-line-user' },
    });
  });

  it('an older link delivered while a newer failing one is unrecorded waits for it, and applies once it is released', async () => {
    // Prepare: a member carrying another LINE user of this account, a free one, and a follower
    harness = await startLinkHarness();
    const TAKEN = '66899999999';
    const [takenId, memberId] = [TAKEN, MOBILE].map((mobile) => harness.capillary.addMember({ mobile }));
    const [other, userId] = [lineUserId(), lineUserId()];
    await harness.run([accountLinkEvent(other, 500, await nonceFor(harness, other, { kind: 'mobile', value: TAKEN }))]);
    await harness.run([followEvent(userId, 1000)]);
    // the newer link (to the taken member) fails, and its worker dies before releasing its claim, which expires
    const newer = accountLinkEvent(userId, 3000, await nonceFor(harness, userId, { kind: 'mobile', value: TAKEN }));
    const restore = dieBeforeRecording(harness);
    expect((await harness.run([newer])).batchItemFailures).toHaveLength(1);
    restore();
    await expireClaim(harness, userId);
    // Act: the older link (to the free member) arrives now, then the newer one's retry, then the older one's
    const older = accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }));
    expect((await harness.run([older])).batchItemFailures).toHaveLength(1);
    await harness.run([redelivery(newer)], 2);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed' });
    await harness.run([redelivery(older)], 2);
    // Assess: linked to the member of the older link; the taken member keeps its user
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect([holders(harness, userId), holders(harness, other)]).toEqual([[memberId], [takenId]]);
  });

  it('restores the previous customer when the attach fails after the detach: LINE profile and opt-in back, record unchanged', async () => {
    // Prepare: the attach answers "LINE id taken" once, after the anonymous customer was detached
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    const { members } = harness.deps.channels.get('default')!;
    jest.spyOn(members, 'attach').mockResolvedValueOnce({ attached: false, reason: 'line-id-taken' });
    // Act
    const response = await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'line-id-taken' });
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(lineSubscription(harness, anonymousId!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(customer(harness, memberId)!.profiles.map((p) => p.source)).toEqual(['INSTORE']);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      subscription: 'OPTIN',
      link: { status: 'failed', detail: 'line-id-taken' },
    });
  });

  it('re-resolves a previous customer Capillary merged away: the survivor holding the LINE id is the one detached', async () => {
    // Prepare: the anonymous customer was merged into another customer in Capillary since the follow
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const survivorId = harness.capillary.addMember({ email: 'survivor@example.com' });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    const merge = await harness.deps.channels.get('default')!.members.requestMerge(anonymousId!, survivorId, {
      deadlineAt: Number.POSITIVE_INFINITY,
    });
    harness.capillary.approveMergeRequest((merge as { requestId: number }).requestId);
    // Act
    const response = await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, survivorId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
    });
  });

  it('links by customerId with the add-profile method, using an identifier the member already has', async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ email: 'a@example.com' });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'customerId', value: memberId });
    await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(holders(harness, userId)).toEqual([memberId]);
  });

  it('links with the change-identifier method', async () => {
    harness = await startLinkHarness({ link: { attachMethod: 'change-identifier' } });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(apiCalls(harness).some((call) => call.path.includes(`/v2/customers/${memberId}/changeIdentifier`))).toBe(
      true,
    );
  });

  it("links from a verified ID token (the link API's bridge.link): a user the bridge never saw is attached opted out", async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ email: 'a@example.com' });
    const userId = lineUserId();
    const response = await harness.run([
      bridgeLinkEvent(userId, await nonceFor(harness, userId, { kind: 'email', value: 'a@example.com' }), Date.now()),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      linkedCustomerId: memberId,
      subscription: 'OPTOUT',
    });
  });

  it('two providers (two user ids, two LINE accounts) → one member with both LINE profiles, each with its own state', async () => {
    harness = await startLinkHarness();
    const secondDestination = `U${'f'.repeat(32)}`;
    const secondAccount = 'second-line-account';
    await harness.close();
    harness = await startWorkerHarness({
      channels: [
        RIG_CHANNEL,
        { ...RIG_CHANNEL, id: 'second', capillaryLineAccountId: secondAccount, destination: secondDestination },
      ],
    });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const runSecond = (events: ReturnType<typeof followEvent>[]) =>
      harness.run(events, 1, { channel: 'second', destination: secondDestination });
    const [first, other] = [lineUserId(), lineUserId()];
    // Act: linked on the first channel while a friend; on the second after blocking it
    await harness.run([followEvent(first, 1000)]);
    await harness.run([
      accountLinkEvent(first, 2000, await nonceFor(harness, first, { kind: 'mobile', value: MOBILE })),
    ]);
    await runSecond([followEvent(other, 1000), unfollowEvent(other, 1500)]);
    await runSecond([
      accountLinkEvent(
        other,
        2000,
        await nonceFor(harness, other, { kind: 'mobile', value: MOBILE }, { destination: secondDestination }),
      ),
    ]);
    // Assess
    expect(holders(harness, first)).toEqual([memberId]);
    expect(holders(harness, other)).toEqual([memberId]);
    expect(
      customer(harness, memberId)!
        .profiles.filter((p) => p.source === 'LINE')
        .map((p) => p.accountId)
        .sort(),
    ).toEqual([LINE_ACCOUNT_ID, secondAccount].sort());
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(lineSubscription(harness, memberId, secondAccount)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });
});

describe('worker: the anonymous customer made at follow time', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  it('merge-request: files a merge request; while it is pending the LINE profile stays and the link is merge-pending', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId, anonymousId } = await followThenLink(harness);
    const [request] = harness.capillary.state().mergeRequests;
    expect(request).toMatchObject({ victimId: anonymousId, survivorId: memberId, status: 'PENDING' });
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      linkedCustomerId: memberId,
      link: { status: 'merge-pending', detail: `request ${request!.id}` },
    });
  });

  it('merge-request: a lost answer fails the event; its retry files nothing twice and records the link pending', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    harness.capillary.injectFault({ kind: 'lost-response', method: 'POST', pathPrefix: '/v2/requests', times: 1 });
    const { memberId, userId, anonymousId, link } = await followThenLink(harness);
    expect(harness.settled.at(-1)?.outcome).toBeUndefined();
    // the event's retry: Capillary answers 9018 for the request the lost answer filed
    await harness.run([link], 2);
    expect(harness.settled.at(-1)?.outcome).toEqual({
      result: 'link',
      action: 'merge-pending',
      customerId: memberId,
      detail: 'already-pending',
    });
    expect(harness.capillary.state().mergeRequests).toHaveLength(1);
    expect(holders(harness, userId)).toEqual([anonymousId]);
  });

  it('merge-request with auto-approve: the anonymous customer is merged into the member, which ends with the LINE profile', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request', mergeAutoApprove: true } });
    const { memberId, userId, anonymousId } = await followThenLink(harness);
    expect(harness.capillary.state().mergeRequests).toEqual([expect.objectContaining({ status: 'APPROVED' })]);
    expect(customer(harness, anonymousId)).toBeUndefined();
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  describe('merge-request: a link while a merge of the anonymous customer is pending', () => {
    const SECOND = '66899999999';
    const linkTo = async (userId: string, mobile: string, at: number) =>
      harness.run([accountLinkEvent(userId, at, await nonceFor(harness, userId, { kind: 'mobile', value: mobile }))]);
    /** Linked to the first member, its merge request pending; a second member. */
    async function pendingThenSecondMember() {
      harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
      const first = await followThenLink(harness);
      const secondId = harness.capillary.addMember({ mobile: SECOND });
      return { ...first, secondId };
    }
    /** On the second member and linked there; the anonymous customer keeps no LINE profile and is opted out. */
    async function expectLinkedTo(userId: string, secondId: number, anonymousId: number) {
      expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: secondId });
      expect(holders(harness, userId)).toEqual([secondId]);
      expect(lineSubscription(harness, secondId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
      expect(lineSubscription(harness, anonymousId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
      expect(await harness.store.read(userKey(userId))).toMatchObject({
        customerId: secondId,
        linkedCustomerId: secondId,
        link: { status: 'linked' },
      });
    }

    it('to another member: withdraws the first request, files none, and moves the profile as detach does', async () => {
      const { userId, anonymousId, secondId } = await pendingThenSecondMember();
      // Act
      await linkTo(userId, SECOND, 3000);
      // Assess: the first request is the only one, withdrawn; the user is on the member they asked for now
      expect(harness.capillary.state().mergeRequests).toEqual([
        expect.objectContaining({ victimId: anonymousId, status: 'REJECTED' }),
      ]);
      await expectLinkedTo(userId, secondId, anonymousId);
    });

    it('unlinked since: the customer of their own the unlink gave them is the victim of a request into the second member', async () => {
      const { userId, anonymousId, secondId } = await pendingThenSecondMember();
      await harness.run([postbackEvent(userId, 2500, 'action=unlink')]);
      const [own] = holders(harness, userId);
      // Act
      await linkTo(userId, SECOND, 3000);
      // Assess: two requests, each its link's; the user waits on their own customer for the second
      expect(harness.capillary.state().mergeRequests.map((request) => [request.victimId, request.survivorId])).toEqual([
        [anonymousId, expect.any(Number)],
        [own, secondId],
      ]);
      expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'merge-pending', customerId: secondId });
      expect(holders(harness, userId)).toEqual([own]);
    });

    it('a retry of a link whose request Capillary took (its status read failed) takes the 9018 as its own: merge-pending', async () => {
      harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
      const memberId = harness.capillary.addMember({ mobile: MOBILE });
      const userId = lineUserId();
      await harness.run([followEvent(userId, 1000)]);
      const [anonymousId] = holders(harness, userId);
      harness.capillary.injectFault({ method: 'GET', pathPrefix: '/v2/requests/', status: 503, times: 10 });
      const link = accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }));
      await expect(harness.run([link])).resolves.toEqual({ batchItemFailures: [expect.anything()] });
      // Act
      await harness.run([redelivery(link)], 2);
      // Assess
      expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'merge-pending', detail: 'already-pending' });
      expect(harness.capillary.state().mergeRequests).toHaveLength(1);
      expect(holders(harness, userId)).toEqual([anonymousId]);
      expect(await harness.store.read(userKey(userId))).toMatchObject({
        customerId: anonymousId,
        linkedCustomerId: memberId,
        link: { status: 'merge-pending' },
      });
    });

    it('to the same member again: the pending request is its own (9018), still named, and the link stays merge-pending', async () => {
      harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
      const { memberId, userId, anonymousId } = await followThenLink(harness);
      const [request] = harness.capillary.state().mergeRequests;
      // Act
      await linkTo(userId, MOBILE, 3000);
      // Assess
      const detail = `request ${request!.id}`;
      expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'merge-pending', detail });
      expect(holders(harness, userId)).toEqual([anonymousId]);
      expect(await harness.store.read(userKey(userId))).toMatchObject({
        customerId: anonymousId,
        linkedCustomerId: memberId,
        link: { status: 'merge-pending', detail },
      });
      // an unlink can still withdraw it by its id
      await harness.run([postbackEvent(userId, 4000, 'action=unlink')]);
      expect(harness.capillary.state().mergeRequests.map((each) => each.status)).toEqual(['REJECTED']);
    });
  });

  it('keep: the anonymous customer keeps the LINE id, so Capillary refuses a second one and the link is recorded failed', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'keep' } });
    const { userId, anonymousId } = await followThenLink(harness);
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(lineSubscription(harness, anonymousId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      link: { status: 'failed', detail: 'line-id-taken' },
    });
  });

  it('on-link: a follow registers nobody; the link attaches the member with the recorded state', async () => {
    harness = await startLinkHarness({ capillary: { registrationMode: 'on-link' } });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    expect(apiCalls(harness)).toEqual([]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({ subscription: 'OPTIN' });
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    expect(harness.capillary.state().customers.map((c) => c.id)).toEqual([memberId]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });
});
