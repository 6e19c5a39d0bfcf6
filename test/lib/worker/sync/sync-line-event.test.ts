import { CustomerGoneError } from '../../../../lib/capillary/errors';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  redelivery,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, startWorkerHarness, type WorkerHarness } from '../../../../local/rigs/worker-rig';
import { subscriptionOf } from '../../../../local/standins/capillary-standin';
import { holders, MOBILE, nonceFor, startLinkHarness } from '../../../support/link-harness';

/** Capillary business calls (the OAuth token call is excluded: it is amortised across events). */
const apiCalls = (harness: WorkerHarness) => harness.capillary.calls().filter((call) => call.path.startsWith('/v2/'));
const lineSubscription = (harness: WorkerHarness, customerId: number) =>
  subscriptionOf(harness.capillary.state(), customerId, 'LINE', LINE_ACCOUNT_ID);
const userKey = (userId: string) => ({ destination: DESTINATION, userId });

describe('worker: follow / unfollow → Capillary (instore+line)', () => {
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness({ lineStandIn: { profiles: {} } });
  });
  afterEach(() => harness.close());

  it('registers a new follower as one customer with INSTORE and LINE profiles, named from LINE, opted in', async () => {
    // Prepare
    const userId = lineUserId();
    harness.line.setProfile(userId, { displayName: 'Somchai' });
    // Act
    const response = await harness.run([followEvent(userId, 1000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
    expect(others).toHaveLength(0);
    expect(customer!.profiles.map((p) => p.source).sort()).toEqual(['INSTORE', 'LINE']);
    const lineProfile = customer!.profiles.find((p) => p.source === 'LINE')!;
    expect(lineProfile).toMatchObject({ accountId: LINE_ACCOUNT_ID, firstName: 'Somchai' });
    expect(lineProfile.identifiers).toContainEqual({ type: 'line', value: userId });
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    // INSTORE add, then the LINE add carrying the opt-in (subscriptionInfo)
    expect(apiCalls(harness).map((call) => call.path)).toEqual(['/v2/customers', '/v2/customers']);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: customer!.id,
      subscription: 'OPTIN',
      lastEventTimestamp: 1000,
    });
  });

  it('makes no Capillary call for a redelivered follow', async () => {
    const follow = followEvent(lineUserId(), 1000);
    await harness.run([follow]);
    const callsAfterFirst = apiCalls(harness).length;
    const response = await harness.run([redelivery(follow)], 2);
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness)).toHaveLength(callsAfterFirst);
  });

  it('opts out on unfollow with one call, ignores a stale follow, and opts back in on unblock without registering again', async () => {
    // Prepare
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    const before = apiCalls(harness).length;
    // Act + Assess: unfollow
    await harness.run([unfollowEvent(userId, 3000)]);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(apiCalls(harness).length - before).toBe(1);
    // a follow older than the unfollow arrives late (a redelivery overtaken by newer events)
    await harness.run([followEvent(userId, 2000)]);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(apiCalls(harness).length - before).toBe(1);
    // unblock
    await harness.run([followEvent(userId, 4000, { follow: { isUnblocked: true } })]);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(harness.capillary.customersWithIdentifier('line', userId)).toHaveLength(1);
    expect(apiCalls(harness).length - before).toBe(2);
  });

  it('registers without a name when the LINE profile is not found', async () => {
    // Prepare: the LINE stand-in answers 404 for users it does not know
    await harness.close();
    harness = await startWorkerHarness({ lineStandIn: { unknownUsers: 'not-found' } });
    const userId = lineUserId();
    // Act
    const response = await harness.run([followEvent(userId, 1000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.line.calls().map((call) => call.status)).toEqual([404]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(customer!.profiles.every((p) => !p.firstName)).toBe(true);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('reports a message failed while Capillary answers 5xx, holds back its group, and succeeds on the retry', async () => {
    // Prepare: every attempt of the next subscription update fails
    const failingUser = lineUserId();
    const otherUser = lineUserId();
    await harness.run([followEvent(failingUser, 1000)]);
    harness.capillary.injectFault({
      status: 503,
      times: harness.config.capillary.maxAttempts,
      pathPrefix: '/v2/customers/',
    });
    const unfollow = unfollowEvent(failingUser, 2000);
    const laterFollow = followEvent(failingUser, 3000);
    const settled = harness.settled;
    // Act
    const first = await harness.run([unfollow, laterFollow, followEvent(otherUser, 1500)]);
    // Assess: the failed message and the later one of its group are reported; the other group went through
    expect(first.batchItemFailures).toHaveLength(2);
    expect(settled.find((s) => s.webhookEventId === unfollow.webhookEventId)?.error?.name).toBe(
      'CapillaryUnavailableError',
    );
    expect(harness.capillary.customersWithIdentifier('line', otherUser)).toHaveLength(1);
    // Act: SQS redelivers the two failed messages
    const retry = await harness.run([unfollow, laterFollow], 2);
    // Assess
    expect(retry.batchItemFailures).toEqual([]);
    const [customer] = harness.capillary.customersWithIdentifier('line', failingUser);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(customer!.subscriptionHistory.map((h) => h.type)).toEqual([
      'OPTIN',
      'OPTIN',
      'OPTOUT',
      'OPTOUT',
      'OPTIN',
      'OPTIN',
    ]);
  });

  it('resolves the customer after a lost add-customer response (8006) instead of creating a second one', async () => {
    const userId = lineUserId();
    harness.capillary.injectFault({ kind: 'lost-response', times: 1, method: 'POST', pathPrefix: '/v2/customers' });
    const response = await harness.run([followEvent(userId, 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness).flatMap((call) => call.errorCodes)).toContain(8006);
    expect(harness.capillary.customersWithIdentifier('line', userId)).toHaveLength(1);
  });

  it('resumes after a crash between the Capillary calls and the DynamoDB commit', async () => {
    // Prepare: the first completion "crashes" the worker after Capillary was updated
    const userId = lineUserId();
    const complete = harness.store.complete.bind(harness.store);
    const spy = jest.spyOn(harness.store, 'complete').mockImplementationOnce(async () => {
      throw new Error('worker died');
    });
    const follow = followEvent(userId, 1000);
    // Act
    const first = await harness.run([follow]);
    spy.mockImplementation(complete);
    const retry = await harness.run([follow], 2);
    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(retry.batchItemFailures).toEqual([]);
    expect(harness.capillary.customersWithIdentifier('line', userId)).toHaveLength(1);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      subscription: 'OPTIN',
      lastEventId: follow.webhookEventId,
    });
  });

  it('records the unfollow of someone Capillary does not know, and registers them on a later follow', async () => {
    const userId = lineUserId();
    await harness.run([unfollowEvent(userId, 1000)]);
    expect(harness.capillary.customersWithIdentifier('line', userId)).toHaveLength(0);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      subscription: 'OPTOUT',
      lastEventTimestamp: 1000,
    });
    expect((await harness.store.read(userKey(userId)))?.customerId).toBeUndefined();

    await harness.run([followEvent(userId, 2000)]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });
});

describe('worker: configuration variants', () => {
  let harness: WorkerHarness | undefined;
  afterEach(() => harness?.close());

  it('line-only mode registers the LINE profile alone, opted in, in one call', async () => {
    harness = await startWorkerHarness({ capillary: { registrationMode: 'line-only' } });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(customer!.profiles.map((p) => p.source)).toEqual(['LINE']);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(apiCalls(harness)).toHaveLength(1);
  });

  it('sets the opt-in in a call of its own when the folded form is switched off', async () => {
    harness = await startWorkerHarness({ capillary: { subscribeOnRegister: false } });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(apiCalls(harness).map((call) => call.path)).toEqual([
      '/v2/customers',
      '/v2/customers',
      `/v2/customers/${customer!.id}/subscriptions`,
    ]);
  });

  it('registers both profiles, opted in, in one call when configured', async () => {
    harness = await startWorkerHarness({ capillary: { registerProfilesTogether: true } });
    const userId = lineUserId();
    const response = await harness.run([followEvent(userId, 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
    expect(others).toHaveLength(0);
    expect(customer!.profiles.map((p) => p.source)).toEqual(['INSTORE', 'LINE']);
    expect(customer!.profiles[0]!.identifiers).toEqual([{ type: 'externalId', value: `line_${userId}` }]);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(apiCalls(harness)).toHaveLength(1);
  });

  it('falls back to separate calls where the org refuses both profiles in one, once per container', async () => {
    // Prepare
    harness = await startWorkerHarness({
      capillary: { registerProfilesTogether: true },
      capillaryStandIn: { profilesOfSeveralSourcesOnAdd: 'refused' },
    });
    const [first, second] = [lineUserId(), lineUserId()];
    // Act: one user at a time, so the first has taught the worker before the second registers
    await harness.run([followEvent(first, 1000)]);
    await harness.run([followEvent(second, 1000)]);
    // Assess: refused with and without the opt-in (either could be the cause), then two adds per follower
    // (INSTORE, LINE with the opt-in); the second follower's adds go separately at once
    for (const userId of [first, second]) {
      const [customer, ...others] = harness.capillary.customersWithIdentifier('line', userId);
      expect(others).toHaveLength(0);
      expect(customer!.profiles.map((p) => p.source).sort()).toEqual(['INSTORE', 'LINE']);
      expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    }
    expect(apiCalls(harness).map((call) => call.status)).toEqual([400, 400, 200, 200, 200, 200]);
  });

  it.each([
    ['warning', 2],
    ['refused', 3],
  ] as const)(
    'falls back to a separate opt-in where the org answers subscriptionInfo as %s, once per container',
    async (answer, callsOfTheFirst) => {
      // Prepare
      harness = await startWorkerHarness({
        capillary: { registrationMode: 'line-only' },
        capillaryStandIn: { subscriptionInfoOnAdd: answer },
      });
      const [first, second] = [lineUserId(), lineUserId()];
      // Act
      await harness.run([followEvent(first, 1000)]);
      const afterFirst = apiCalls(harness).length;
      await harness.run([followEvent(second, 1000)]);
      // Assess: the first follower needs the subscriptions call (and, refused outright, the add again); the
      // second gets add + subscriptions, without subscriptionInfo
      for (const userId of [first, second]) {
        const [customer] = harness.capillary.customersWithIdentifier('line', userId);
        expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
      }
      expect(afterFirst).toBe(callsOfTheFirst);
      expect(
        apiCalls(harness)
          .slice(afterFirst)
          .map((call) => call.requestBody?.includes('subscriptionInfo')),
      ).toEqual([false, false]);
    },
  );

  it('falls back to the other LINE channel spelling when Capillary answers 1101', async () => {
    harness = await startWorkerHarness({ capillaryStandIn: { acceptedSubscriptionChannels: ['line'] } });
    const userId = lineUserId();
    const response = await harness.run([followEvent(userId, 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    const [customer] = harness.capillary.customersWithIdentifier('line', userId);
    expect(lineSubscription(harness, customer!.id)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(apiCalls(harness).flatMap((call) => call.errorCodes)).toEqual([1101]);
  });

  it('authenticates with a till username and md5 password (Basic)', async () => {
    harness = await startWorkerHarness({
      capillary: {
        auth: { scheme: 'basic', id: 'local.till', secret: 'local-password', oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN' },
      },
    });
    const response = await harness.run([followEvent(lineUserId(), 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.capillary.calls().some((call) => call.path.startsWith('/v3/oauth'))).toBe(false);
  });
});

describe('worker: orgs that cannot look customers up by LINE id', () => {
  it('records an unfollow of an unknown user instead of failing it forever', async () => {
    const harness = await startWorkerHarness({
      capillary: { registrationMode: 'line-only' },
      capillaryStandIn: { supportsLineLookup: false },
    });
    const userId = lineUserId();
    const response = await harness.run([unfollowEvent(userId, 1000)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(apiCalls(harness).flatMap((call) => call.errorCodes)).toEqual([8013]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({ subscription: 'OPTOUT' });
    await harness.close();
  });
});

describe('worker: a customer Capillary no longer has is re-resolved, not retried', () => {
  let harness: WorkerHarness;
  beforeEach(async () => {
    harness = await startWorkerHarness({ lineStandIn: { profiles: {} } });
  });
  afterEach(() => harness.close());

  /** A follower (their first customer: INSTORE + LINE) linked to a store member, on the link harness. */
  const linkedFollower = async () => {
    await harness.close();
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [first] = holders(harness, userId);
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    return { userId, first, memberId };
  };

  const mergeAway = async (victimId: number, survivorId: number) => {
    const merge = await harness.deps.channels.get('default')!.members.requestMerge(victimId, survivorId, {
      deadlineAt: Number.POSITIVE_INFINITY,
    });
    harness.capillary.approveMergeRequest((merge as { requestId: number }).requestId);
  };

  it('an unfollow of a user whose customer was merged away opts out the survivor and re-points the record', async () => {
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customerId] = harness.capillary.customersWithIdentifier('line', userId).map((c) => c.id);
    const survivorId = harness.capillary.addMember({ mobile: '66812345678' });
    await mergeAway(customerId!, survivorId);
    // Act
    const response = await harness.run([unfollowEvent(userId, 2000)]);
    // Assess: applied at once, never failed (so never the DLQ)
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', customerId: survivorId });
    expect(lineSubscription(harness, survivorId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: survivorId, subscription: 'OPTOUT' });
  });

  it('a follow of a user whose merge request Capillary approved without telling settles the merge-pending link', async () => {
    // Prepare: followed (an anonymous customer), linked in merge-request mode (pending), approved with no notification
    await harness.close();
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({ link: { status: 'merge-pending' } });
    harness.capillary.approveMergeRequest(harness.capillary.state().mergeRequests[0]!.id);
    // Act
    const response = await harness.run([followEvent(userId, 3000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
      link: { status: 'linked' },
    });
  });

  it("a follow of a linked member merged away lands on the survivor carrying the LINE profile, not the person's first customer", async () => {
    // Prepare: followed (customer A: INSTORE + LINE), linked to member M (the LINE profile moved, INSTORE stayed on A),
    // then Capillary merged M into S
    const { userId, first, memberId } = await linkedFollower();
    const survivorId = harness.capillary.addMember({ mobile: '66899999999' });
    await mergeAway(memberId, survivorId);
    // Act
    const response = await harness.run([followEvent(userId, 3000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(holders(harness, userId)).toEqual([survivorId]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', customerId: survivorId });
    expect(lineSubscription(harness, survivorId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(lineSubscription(harness, first!)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: survivorId,
      linkedCustomerId: survivorId,
    });
  });

  it('a follow of a linked member Capillary deleted (PII) registers a customer of their own, unlinked', async () => {
    // Prepare: followed, linked to member M, then M deleted on a PII request (no notification reached the bridge yet)
    const { userId, memberId } = await linkedFollower();
    harness.capillary.deleteCustomer(memberId);
    // Act
    const response = await harness.run([followEvent(userId, 3000)]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [own] = holders(harness, userId);
    expect(own).not.toBe(memberId);
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ customerId: own, subscription: 'OPTIN' });
    expect(record?.linkedCustomerId).toBeUndefined();
    expect(record?.link).toMatchObject({ status: 'unlinked' });
  });

  it.each([
    [8069, 'merged: the customer carrying the profile is the survivor, still the member', true],
    [8109, "deleted: the customer carrying the profile is the user's own (an earlier attempt registered it)", false],
  ])('a linked member gone with %s, re-resolved: %s', async (code, _meaning, linked) => {
    const { userId, memberId } = await linkedFollower();
    const { customers } = harness.deps.channels.get('default')!;
    jest
      .spyOn(customers, 'setSubscription')
      .mockRejectedValueOnce(new CustomerGoneError('update-subscription', memberId, [code]));
    jest.spyOn(customers, 'findProfileHolder').mockResolvedValueOnce(777);
    jest.spyOn(customers, 'setSubscription').mockResolvedValueOnce(undefined);
    // Act
    await harness.run([followEvent(userId, 3000)]);
    // Assess
    const record = await harness.store.read(userKey(userId));
    expect(record?.customerId).toBe(777);
    expect(record?.linkedCustomerId).toBe(linked ? 777 : undefined);
  });

  /**
   * A follower whose customer Capillary answers gone with `code` at the next subscription; nobody else carries them,
   * so a follow registers customer 777.
   */
  async function followedWhoseCustomerIsGone(code: number): Promise<{ userId: string; customerId: number }> {
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customerId] = harness.capillary.customersWithIdentifier('line', userId).map((c) => c.id);
    const { customers } = harness.deps.channels.get('default')!;
    jest
      .spyOn(customers, 'setSubscription')
      .mockRejectedValueOnce(new CustomerGoneError('update-subscription', customerId!, [code]));
    jest.spyOn(customers, 'findProfileHolder').mockResolvedValueOnce(undefined);
    jest.spyOn(customers, 'register').mockResolvedValueOnce({ customerId: 777, subscribed: true, merged: false });
    return { userId, customerId: customerId! };
  }

  it.each([8069, 8109])(
    'a follow whose customer is gone (%s) and that nobody else carries registers afresh; no retry',
    async (code) => {
      const { userId } = await followedWhoseCustomerIsGone(code);
      // Act
      const response = await harness.run([followEvent(userId, 2000)]);
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', customerId: 777 });
      expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: 777, subscription: 'OPTIN' });
    },
  );

  it.each([
    [8109, 'deleted on a PII request: remembered until its notice says when', true],
    [8069, 'merged: not remembered', false],
    [1012, 'unknown: not remembered', false],
  ])('a follow that replaces a customer gone with %s: %s', async (code, _meaning, remembered) => {
    const { userId, customerId } = await followedWhoseCustomerIsGone(code);
    // Act
    await harness.run([followEvent(userId, 2000)]);
    // Assess
    const record = await harness.store.read(userKey(userId));
    expect(record?.customerId).toBe(777);
    expect(record?.replaced).toEqual(remembered ? { customerId, at: 2000 } : undefined);
  });

  it('an unfollow whose customer is gone and that nobody carries is recorded, the dead customer forgotten', async () => {
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customerId] = harness.capillary.customersWithIdentifier('line', userId).map((c) => c.id);
    const { customers } = harness.deps.channels.get('default')!;
    jest
      .spyOn(customers, 'setSubscription')
      .mockRejectedValueOnce(new CustomerGoneError('update-subscription', customerId!, [8109]));
    jest.spyOn(customers, 'findProfileHolder').mockResolvedValueOnce(undefined);
    const response = await harness.run([unfollowEvent(userId, 2000)]);
    expect(response.batchItemFailures).toEqual([]);
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ subscription: 'OPTOUT' });
    expect(record?.customerId).toBeUndefined();
    // the deleted customer is remembered: its notice still finds this record (store/customer-index)
    expect(record?.replaced).toEqual({ customerId });
  });
});
