import type { WorkerConfig } from '../../../lib/config/config';
import type { CustomerReference } from '../../../lib/domain/link-rules';
import { bridgeLinkEvent, bridgeUnlinkEvent } from '../../../lib/link-api/bridge-events';
import { LinkNonceStore } from '../../../lib/store/link-nonce-store';
import {
  accountLinkEvent,
  DESTINATION,
  followEvent,
  lineUserId,
  postbackEvent,
  redelivery,
  textMessageEvent,
  unfollowEvent,
} from '../../../local/line-event-factory';
import { LINE_ACCOUNT_ID, RIG_CHANNEL, startWorkerHarness, type WorkerHarness } from '../../../local/rigs/worker-rig';
import { subscriptionOf, type CustomerSnapshot } from '../../../local/standins/capillary-standin';

const MOBILE = '66812345678';
const userKey = (userId: string, destination = DESTINATION) => ({ destination, userId });
const lineSubscription = (harness: WorkerHarness, customerId: number, accountId = LINE_ACCOUNT_ID) =>
  subscriptionOf(harness.capillary.state(), customerId, 'LINE', accountId);
const apiCalls = (harness: WorkerHarness) => harness.capillary.calls().filter((call) => call.path.startsWith('/v2/'));
const holders = (harness: WorkerHarness, userId: string): number[] =>
  harness.capillary.customersWithIdentifier('line', userId).map((c) => c.id);
const customer = (harness: WorkerHarness, id: number): CustomerSnapshot | undefined =>
  harness.capillary.state().customers.find((c) => c.id === id);

/** What the link API stores for a nonce (lib/link-api), written straight into the store. */
async function nonceFor(
  harness: WorkerHarness,
  userId: string,
  reference: CustomerReference,
  { expiresInMs = 600_000, destination = DESTINATION } = {},
) {
  const nonce = LinkNonceStore.newNonce();
  await harness.deps.link.nonces.issueNonce(nonce, {
    userId,
    destination,
    customer: reference,
    expiresAt: Date.now() + expiresInMs,
  });
  return nonce;
}

async function start(
  options: {
    capillary?: Partial<WorkerConfig['capillary']>;
    link?: Partial<WorkerConfig['link']>;
    autoApproveMerges?: boolean;
  } = {},
) {
  return startWorkerHarness({
    capillary: options.capillary,
    link: options.link,
    capillaryStandIn: { autoApproveMerges: options.autoApproveMerges },
  });
}

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
      harness = await start();
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

  it("orders links apart from follows: a link delivered after a newer unfollow still links, with the newest follow's state", async () => {
    // Prepare
    harness = await start();
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
    harness = await start();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000), unfollowEvent(userId, 1500)]);
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE });
    await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
  });

  it('uses a nonce once: a redelivery is a duplicate, a second event with the same nonce is rejected, neither calls Capillary', async () => {
    harness = await start();
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
    harness = await start();
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
    harness = await start();
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

  it("acknowledges LINE's failed result (no user, no reply token) without touching any record", async () => {
    harness = await start();
    const response = await harness.run([accountLinkEvent(lineUserId(), 2000, LinkNonceStore.newNonce(), 'failed')]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'rejected', reason: 'failed-at-line' });
    expect(apiCalls(harness)).toEqual([]);
  });

  it('records a member Capillary cannot find as a failed link with the reason, and does not retry it', async () => {
    harness = await start();
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

  it('links by customerId with the add-profile method, using an identifier the member already has', async () => {
    harness = await start();
    const memberId = harness.capillary.addMember({ email: 'a@example.com' });
    const userId = lineUserId();
    const nonce = await nonceFor(harness, userId, { kind: 'customerId', value: memberId });
    await harness.run([accountLinkEvent(userId, 2000, nonce)]);
    expect(holders(harness, userId)).toEqual([memberId]);
  });

  it('links with the change-identifier method', async () => {
    harness = await start({ link: { attachMethod: 'change-identifier' } });
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
});

describe('worker: the anonymous customer made at follow time', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  const followThenLink = async () => {
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    const [anonymousId] = holders(harness, userId);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    return { memberId, userId, anonymousId: anonymousId! };
  };

  it('merge-request: files a merge request; while it is pending the LINE profile stays and the link is merge-pending', async () => {
    harness = await start({ link: { anonymousCustomer: 'merge-request' } });
    const { memberId, userId, anonymousId } = await followThenLink();
    const [request] = harness.capillary.state().mergeRequests;
    expect(request).toMatchObject({ victimId: anonymousId, survivorId: memberId, status: 'PENDING' });
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      linkedCustomerId: memberId,
      link: { status: 'merge-pending', detail: `request ${request!.id}` },
    });
  });

  it('merge-request with auto-approve: the anonymous customer is merged into the member, which ends with the LINE profile', async () => {
    harness = await start({ link: { anonymousCustomer: 'merge-request', mergeAutoApprove: true } });
    const { memberId, userId, anonymousId } = await followThenLink();
    expect(harness.capillary.state().mergeRequests).toEqual([expect.objectContaining({ status: 'APPROVED' })]);
    expect(customer(harness, anonymousId)).toBeUndefined();
    expect(holders(harness, userId)).toEqual([memberId]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it('keep: the anonymous customer keeps the LINE id, so Capillary refuses a second one and the link is recorded failed', async () => {
    harness = await start({ link: { anonymousCustomer: 'keep' } });
    const { userId, anonymousId } = await followThenLink();
    expect(holders(harness, userId)).toEqual([anonymousId]);
    expect(lineSubscription(harness, anonymousId)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(await harness.store.read(userKey(userId))).toMatchObject({
      customerId: anonymousId,
      link: { status: 'failed', detail: 'line-id-taken' },
    });
  });

  it('on-link: a follow registers nobody; the link attaches the member with the recorded state', async () => {
    harness = await start({ capillary: { registrationMode: 'on-link' } });
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

describe('worker: unlinking, and one member with two providers', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  it("unlink takes the LINE id off the member, answers in chat, keeps the record's state; the next follow registers as today", async () => {
    harness = await start();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)]);
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    // Act: unlink from chat
    await harness.run([postbackEvent(userId, Date.now(), 'action=unlink')]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(holders(harness, userId)).toEqual([]);
    expect(lineSubscription(harness, memberId)).toEqual({ BULK: 'OPTOUT', TRANS: 'OPTOUT' });
    expect(harness.line.state().sent.at(-1)).toMatchObject({
      via: 'reply',
      messages: [{ type: 'text', text: expect.stringContaining('no longer linked') }],
    });
    const record = await harness.store.read(userKey(userId));
    expect(record).toMatchObject({ subscription: 'OPTIN', link: { status: 'unlinked' } });
    expect(record?.customerId).toBeUndefined();
    expect(record?.linkedCustomerId).toBeUndefined();
    // Act: the next follow
    await harness.run([followEvent(userId, Date.now() + 1000)]);
    const [holder, ...others] = holders(harness, userId);
    expect(others).toEqual([]);
    expect(holder).not.toBe(memberId);
    expect(lineSubscription(harness, holder!)).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
  });

  it("links from a verified ID token (the link API's bridge.link): a user the bridge never saw is attached opted out", async () => {
    harness = await start();
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

  it('unlinks from the link API (bridge.unlink) without answering in chat', async () => {
    harness = await start();
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([
      accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE })),
    ]);
    await harness.run([bridgeUnlinkEvent(userId, Date.now())]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(holders(harness, userId)).toEqual([]);
    expect(harness.line.state().sent).toEqual([]);
  });

  it('answers an unlink of a user who is not linked', async () => {
    harness = await start();
    await harness.run([postbackEvent(lineUserId(), Date.now(), 'action=unlink')]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'not-linked' });
    expect(harness.line.state().sent).toEqual([
      expect.objectContaining({
        via: 'reply',
        messages: [expect.objectContaining({ text: expect.stringContaining('not linked') })],
      }),
    ]);
  });

  it('two providers (two user ids, two LINE accounts) → one member with both LINE profiles, each with its own state', async () => {
    harness = await start();
    const secondDestination = `U${'f'.repeat(32)}`;
    const secondAccount = 'second-line-account';
    await harness.close();
    harness = await startWorkerHarness({
      channels: [RIG_CHANNEL, { ...RIG_CHANNEL, id: 'second', capillaryLineAccountId: secondAccount }],
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

describe('worker: starting the link in chat', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  const buttonUri = (sent: unknown): string =>
    (sent as { messages: { template: { actions: { uri: string }[] } }[] }).messages[0]!.template.actions[0]!.uri;

  it('answers the link postback with a button to the brand page carrying a fresh link token, by reply', async () => {
    harness = await start();
    const userId = lineUserId();
    const response = await harness.run([postbackEvent(userId, Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toEqual([]);
    const [token] = harness.line.state().linkTokens;
    expect(token).toMatchObject({ userId });
    const [sent] = harness.line.state().sent;
    expect(sent).toMatchObject({ via: 'reply' });
    expect(buttonUri(sent)).toBe(`https://brand.example/line/link?linkToken=${encodeURIComponent(token!.linkToken)}`);
    expect(await harness.deps.link.nonces.findLinkToken(token!.linkToken, Date.now())).toEqual({
      userId,
      destination: DESTINATION,
    });
  });

  it('pushes instead when the reply token is too old, and honours a configured keyword', async () => {
    harness = await start({
      link: {
        chat: { linkPostbackData: 'action=link', unlinkPostbackData: 'action=unlink', linkKeyword: 'link my card' },
      },
    });
    const userId = lineUserId();
    await harness.run([textMessageEvent(userId, Date.now() - 120_000, '  Link my card ')]);
    expect(harness.line.state().sent).toEqual([expect.objectContaining({ via: 'push', to: userId })]);
  });

  it('acknowledges a link postback LINE will not issue a token for (the user blocked the account since), without retrying', async () => {
    harness = await start();
    const userId = lineUserId();
    harness.line.setBlocked(userId, true);
    const response = await harness.run([postbackEvent(userId, Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'rejected', reason: 'refused-by-line' });
    expect(harness.line.state().sent).toEqual([]);
  });

  it('retries a link postback while LINE answers 5xx', async () => {
    harness = await start();
    harness.line.injectFault({ status: 503, times: 1, pathPrefix: '/v2/bot/user/' });
    const response = await harness.run([postbackEvent(lineUserId(), Date.now(), 'action=link')]);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-1)?.error?.name).toBe('LineApiError');
  });

  it('ignores other postbacks and texts', async () => {
    harness = await start();
    await harness.run([
      postbackEvent(lineUserId(), Date.now(), 'action=buy'),
      textMessageEvent(lineUserId(), Date.now(), 'link'),
    ]);
    expect(harness.settled.map((s) => s.outcome)).toEqual([
      { result: 'ignored', reason: 'unsupported-type' },
      { result: 'ignored', reason: 'unsupported-type' },
    ]);
    expect(harness.line.state().linkTokens).toEqual([]);
  });
});
