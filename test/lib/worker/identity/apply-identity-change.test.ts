import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';

import { DEFAULT_CAPILLARY_ORG_ID } from '../../../../lib/config/channels';
import { eventFactsOf } from '../../../../lib/domain/event-route';
import {
  CAPILLARY_DELETE_TYPE,
  CAPILLARY_MERGE_TYPE,
  MERGE_REJECTED,
  type IdentityNotice,
} from '../../../../lib/domain/identity-rules';
import { identityEvent, identityEventId } from '../../../../lib/notifications/identity-events';
import { DynamoNotificationLog } from '../../../../lib/store/notification-log';
import { UserSyncStore } from '../../../../lib/store/user-sync-store';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import type { WorkerHarness } from '../../../../local/rigs/worker-rig';
import {
  apiCalls,
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

const notify = (userId: string, notice: IdentityNotice, createdAt: number, key = `n-${createdAt}`) =>
  identityEvent(userId, notice, identityEventId(key, DESTINATION, userId), createdAt);

describe('worker: Capillary identity changes (dynalite + the stand-ins)', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  it('re-points a follower merged away in Capillary; the next unfollow opts the survivor out, never the victim', async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [victim] = holders(harness, userId);
    const survivor = harness.capillary.addMember({ mobile: MOBILE });
    // Act
    await harness.run([notify(userId, { type: CAPILLARY_MERGE_TYPE, survivor, victim: victim! }, 2000)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'repointed', customerId: survivor });
    expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: survivor, lastEventTimestamp: 1000 });
    // the same notification again (another delivery): the lane's duplicate
    await harness.run([notify(userId, { type: CAPILLARY_MERGE_TYPE, survivor, victim: victim! }, 2000)]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'skipped', reason: 'duplicate' });
    const before = apiCalls(harness).length;
    await harness.run([unfollowEvent(userId, 3000)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'subscribe', customerId: survivor });
    expect(
      apiCalls(harness)
        .slice(before)
        .map((call) => call.path),
    ).toEqual([`/v2/customers/${survivor}/subscriptions`]);
  });

  it('settles a merge-pending link when the merge arrives; an older follow is not made stale by it', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId, anonymousId: anonymous } = await followThenLink(harness);
    expect(await harness.store.read(userKey(userId))).toMatchObject({ link: { status: 'merge-pending' } });
    // Act
    await harness.run([notify(userId, { type: CAPILLARY_MERGE_TYPE, survivor: memberId, victim: anonymous }, 3000)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({
      result: 'identity',
      action: 'link-settled',
      customerId: memberId,
    });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
      link: { status: 'linked' },
    });
    await harness.run([followEvent(userId, 1500)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied' });
  });

  it("settles a merge-pending link with the user's subscription on the member, whose own opt-out the merge kept", async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    // Prepare: the member was opted out on this account (an earlier unlink, say); a friend on their anonymous customer
    await harness.deps.channels.get('default')!.customers.setSubscription(memberId, 'OPTOUT', { deadlineAt: Infinity });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymous] = holders(harness, userId);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    const [request] = harness.capillary.state().mergeRequests;
    harness.capillary.approveMergeRequest(request!.id);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    // Act
    await harness.run([notify(userId, { type: CAPILLARY_MERGE_TYPE, survivor: memberId, victim: anonymous! }, 3000)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-settled', customerId: memberId });
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('fails a merge-pending link whose request Capillary rejected: the user stays on the anonymous customer, opted in', async () => {
    harness = await startLinkHarness({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId, anonymousId } = await followThenLink(harness);
    const [request] = harness.capillary.state().mergeRequests;
    harness.capillary.rejectMergeRequest(request!.id);
    const rejection = { type: CAPILLARY_MERGE_TYPE, customerId: anonymousId, rejected: true } as const;
    // Act: a rejection of another request first (not this link's), then this one's
    await harness.run([notify(userId, { ...rejection, mergeRequestId: String(request!.id + 1000) }, 3000)]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'not-named' });
    await harness.run([notify(userId, { ...rejection, mergeRequestId: String(request!.id) }, 3001)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'link-rejected' });
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ customerId: anonymousId, link: { status: 'failed', detail: MERGE_REJECTED } });
    expect(record?.linkedCustomerId).toBeUndefined();
    expect([holders(harness, userId), lineSubscription(harness, anonymousId)]).toEqual([
      [anonymousId],
      { BULK: 'OPTIN', TRANS: 'OPTIN' },
    ]);
    expect(lineSubscription(harness, memberId)).toEqual({});
    // the user links again: a new request into the member, which Capillary takes (nothing pending for the victim)
    await harness.run([
      accountLinkEvent(userId, 4000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'merge-pending', customerId: memberId });
    expect(harness.capillary.state().mergeRequests.map((each) => each.status)).toEqual(['REJECTED', 'PENDING']);
  });

  it("forgets a user merged into a survivor Capillary deleted since, whose deletion's notice came first and found nobody", async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [victim] = holders(harness, userId);
    const survivor = harness.capillary.addMember({ mobile: MOBILE });
    // Prepare: the deletion's notice came first (no record named the survivor): the notifications function kept it
    await new DynamoNotificationLog(harness.dynamo, harness.config.tableName).rememberDeletion(
      DEFAULT_CAPILLARY_ORG_ID,
      survivor,
      5000,
    );
    // Act: the merge's notice
    await harness.run([notify(userId, { type: CAPILLARY_MERGE_TYPE, survivor, victim: victim! }, 4000)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'forgotten' });
    const record = await harness.store.read(userKey(userId));
    expect([record?.customerId, record?.forgottenAt]).toEqual([undefined, 5000]);
  });

  it('forgets a deleted customer: record, member index; an unfollow then calls nothing, a new follow registers afresh', async () => {
    harness = await startLinkHarness();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    const linkRef = `linkref#${DESTINATION}#forgotten-test`;
    await harness.dynamo.send(
      new PutItemCommand({
        TableName: harness.config.tableName,
        Item: { pk: { S: linkRef }, userId: { S: userId } },
      }),
    );
    await harness.dynamo.send(
      new UpdateItemCommand({
        TableName: harness.config.tableName,
        Key: { pk: { S: UserSyncStore.partitionKey(userKey(userId)) } },
        UpdateExpression: 'SET linkRefs = :refs',
        ExpressionAttributeValues: { ':refs': { SS: [linkRef] } },
      }),
    );
    // Act
    await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: memberId }, 5000)]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'forgotten' });
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ forgottenAt: 5000, lastLinkEventTimestamp: 2000 });
    expect([record?.customerId, record?.linkedCustomerId, record?.link, record?.linkRefs]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const ref = await harness.dynamo.send(
      new GetItemCommand({ TableName: harness.config.tableName, Key: { pk: { S: linkRef } } }),
    );
    // the member index entry no longer names the user (an empty item TTL deletes)
    expect(ref.Item?.userId).toBeUndefined();
    // a follow from before the deletion, and an unfollow: recorded, no Capillary call
    const before = apiCalls(harness).length;
    await harness.run([followEvent(userId, 4000)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', action: 'record' });
    await harness.run([unfollowEvent(userId, 6000)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', action: 'record' });
    expect(apiCalls(harness).length).toBe(before);
    expect((await harness.store.read(userKey(userId)))?.forgottenAt).toBe(5000);
    // a new consent
    await harness.run([followEvent(userId, 7000)]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'applied', action: 'register' });
    expect((await harness.store.read(userKey(userId)))?.forgottenAt).toBeUndefined();
  });

  /** A follower whose customer Capillary deleted on a PII request at 5000, notified: the record is forgotten. */
  async function forgottenFollower(): Promise<string> {
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [deleted] = holders(harness, userId);
    harness.capillary.deleteCustomer(deleted!);
    await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: deleted! }, 5000)]);
    return userId;
  }

  /** A follow since the deletion registers the user afresh and its worker dies before recording; its claim expires. */
  async function followSinceDiedUnrecorded(userId: string, timestamp: number): Promise<number> {
    const restore = dieBeforeRecording(harness);
    expect((await harness.run([followEvent(userId, timestamp)])).batchItemFailures).toHaveLength(1);
    restore();
    const [registered, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    await expireClaim(harness, userId);
    return registered!;
  }

  it('an unfollow after a new consent whose worker died unrecorded opts out the customer that follow registered', async () => {
    // Prepare: forgotten on a PII deletion; a follow since registers them afresh, and its worker dies before recording
    const userId = await forgottenFollower();
    const registered = await followSinceDiedUnrecorded(userId, 7000);
    // Act
    await harness.run([unfollowEvent(userId, 8000)]);
    // Assess: found and opted out, and the record names them again
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'resolve-then-subscribe', customerId: registered });
    expect(lineSubscription(harness, registered)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    const record = await harness.store.read(userKey(userId));
    expect([record?.customerId, record?.forgottenAt, record?.subscription]).toEqual([registered, undefined, 'OPTOUT']);
  });

  it("an unfollow that took over such a follow's claim and died before its lookup looks up on its retry", async () => {
    // Prepare: forgotten; a follow since registers them afresh and dies before recording; its claim expires
    const userId = await forgottenFollower();
    const registered = await followSinceDiedUnrecorded(userId, 7000);
    // the unfollow takes the claim over, and its lookup fails (Capillary down): the follow's trace is gone
    harness.capillary.injectFault({ method: 'GET', pathPrefix: '/v2/customers/lookup', status: 500, times: 1 });
    const unfollow = unfollowEvent(userId, 8000);
    expect((await harness.run([unfollow])).batchItemFailures).toHaveLength(1);
    expect((await harness.store.read(userKey(userId)))?.pendingEventId).toBe(unfollow.webhookEventId);
    // Act: its retry
    await harness.run([unfollow], 2);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'resolve-then-subscribe', customerId: registered });
    expect(lineSubscription(harness, registered)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });

  it('an unfollow after an unrecorded event since the deletion that registered nobody leaves the user forgotten', async () => {
    // Prepare: forgotten; an unfollow since claimed (its worker died), with nothing to opt out
    const userId = await forgottenFollower();
    const diedAfterClaim = unfollowEvent(userId, 7000);
    expect((await harness.store.claim(userKey(userId), eventFactsOf(diedAfterClaim), 0)).claimed).toBe(true);
    // Act: a newer unfollow, once that claim expired
    await harness.run([unfollowEvent(userId, 8000)]);
    // Assess: looked up (a follow might have registered them), nobody found: still forgotten, on no customer
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'resolve-then-subscribe' });
    expect(holders(harness, userId)).toEqual([]);
    expect((await harness.store.read(userKey(userId)))?.forgottenAt).toBe(5000);
  });

  describe('a follow applied after a PII deletion but before its notice (it found the customer deleted, 8109)', () => {
    const DELETED_AT = 2000;

    /** Followed at 1000; Capillary deletes that customer at DELETED_AT; a follow of `followAt` re-registers the user. */
    async function replacedByFollow(followAt: number) {
      harness = await startLinkHarness();
      const userId = lineUserId();
      await harness.run([followEvent(userId, 1000)]);
      const [deleted] = holders(harness, userId);
      harness.capillary.deleteCustomer(deleted!);
      await harness.run([followEvent(userId, followAt)]);
      const [replacement] = holders(harness, userId);
      expect(replacement).not.toBe(deleted);
      expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId: replacement });
      return { userId, deleted: deleted!, replacement: replacement! };
    }

    it('older than the deletion: the notice forgets the user and takes the LINE profile and opt-in off the replacement', async () => {
      const { userId, deleted, replacement } = await replacedByFollow(1500);
      // Act
      await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: deleted }, DELETED_AT)]);
      // Assess
      expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'forgotten' });
      expect(holders(harness, userId)).toEqual([]);
      expect(lineSubscription(harness, replacement)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
      const record = await harness.store.read(userKey(userId));
      expect(record).toMatchObject({ forgottenAt: DELETED_AT });
      expect([record?.customerId, record?.replaced]).toEqual([undefined, undefined]);
      // the notice again (another delivery) and a follow from before the deletion: nothing comes back
      await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: deleted }, DELETED_AT)]);
      await harness.run([followEvent(userId, 1800)]);
      expect(holders(harness, userId)).toEqual([]);
    });

    it('newer than the deletion (a new consent): the person stays registered on the replacement', async () => {
      const { userId, deleted, replacement } = await replacedByFollow(2500);
      // Act
      await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: deleted }, DELETED_AT)]);
      // Assess
      expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'not-named' });
      expect(holders(harness, userId)).toEqual([replacement]);
      expect(lineSubscription(harness, replacement)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
      const record = await harness.store.read(userKey(userId));
      expect(record).toMatchObject({ customerId: replacement, subscription: 'OPTIN' });
      expect([record?.forgottenAt, record?.replaced]).toEqual([undefined, undefined]);
    });

    it('older, then a newer follow before the notice: the newer consent keeps the person registered', async () => {
      const { userId, deleted, replacement } = await replacedByFollow(1500);
      await harness.run([followEvent(userId, 2500)]);
      await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: deleted }, DELETED_AT)]);
      expect(holders(harness, userId)).toEqual([replacement]);
      expect((await harness.store.read(userKey(userId)))?.forgottenAt).toBeUndefined();
    });
  });

  it('records a notification for a customer the record no longer names, changing nothing', async () => {
    harness = await startLinkHarness();
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [customerId] = holders(harness, userId);
    await harness.run([notify(userId, { type: CAPILLARY_DELETE_TYPE, customerId: customerId! + 1000 }, 2000)]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'identity', action: 'not-named' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({ customerId, lastIdentityEventTimestamp: 2000 });
  });
});
