import { CapillaryUnavailableError } from '../../../../lib/capillary/errors';
import { DEFAULT_CAPILLARY_ORG_ID } from '../../../../lib/config/channels';
import { eventFactsOf } from '../../../../lib/domain/event-route';
import { CAPILLARY_MERGE_TYPE } from '../../../../lib/domain/identity-rules';
import { identityEvent, identityEventId } from '../../../../lib/notifications/identity-events';
import { DynamoCustomerIndex } from '../../../../lib/store/customer-index';
import { UserSyncStore } from '../../../../lib/store/user-sync-store';
import {
  accountLinkEvent,
  followEvent,
  lineUserId,
  postbackEvent,
  unfollowEvent,
} from '../../../../local/line-event-factory';
import { MOBILE, nonceFor } from '../../../support/link-harness';
import {
  BOT,
  holdersOf,
  lineAccountsOf,
  lineSubscriptionOf,
  personLinkedOnThOnly,
  personOnBothChannels,
  startSiblingHarness,
  VIA,
  type SiblingHarness,
} from '../../../support/sibling-harness';

const OPTIN = { BULK: 'OPTIN', TRANS: 'OPTIN' };
const OPTOUT = { BULK: 'OPTOUT', TRANS: 'OPTOUT' };
/** Capillary writes (reads and the OAuth token excluded). */
const writes = (harness: SiblingHarness) =>
  harness.capillary.calls().filter((call) => call.method === 'POST' && call.path.startsWith('/v2/'));

describe('worker: a link or unlink moves the LINE profiles of every channel of the provider, in one event', () => {
  let harness: SiblingHarness;
  let memberId: number;
  let userId: string;
  let anonymousId: number;
  beforeEach(async () => {
    ({ harness, memberId, userId, anonymousId } = await personOnBothChannels(MOBILE));
  });
  afterEach(() => harness.close());

  const twKey = () => ({ destination: BOT.tw, userId });
  const linkEventInTh = async (timestamp = 2000) =>
    accountLinkEvent(
      userId,
      timestamp,
      await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, { destination: BOT.th }),
    );
  const linkInTh = async () => harness.run([await linkEventInTh()], 1, VIA.th);

  it('linked in one channel: the member carries both LINE profiles opted in, the old customer none', async () => {
    // Act
    const response = await linkInTh();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, memberId, 'th')).toEqual(OPTIN);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, anonymousId)).toEqual([]);
    expect(lineSubscriptionOf(harness, anonymousId, 'th')).toEqual(OPTOUT);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTOUT);
    for (const destination of [BOT.th, BOT.tw]) {
      const record = await harness.store.read({ destination, userId });
      expect(record).toMatchObject({ customerId: memberId, linkedCustomerId: memberId, link: { status: 'linked' } });
      expect(record?.pendingEventId).toBeUndefined();
      expect(record?.inFlight).toBeUndefined();
    }
  });

  it('a link that gives up on a held sibling record leaves no mark there that would hold a newer link forever', async () => {
    // Prepare: the first link claims both records, then dies on Capillary (its marks stay on both)
    const first = await linkEventInTh(2000);
    harness.capillary.injectFault({ method: 'GET', pathPrefix: `/v2/customers/${memberId}`, status: 503, times: 3 });
    expect((await harness.run([first], 1, VIA.th)).batchItemFailures).toHaveLength(1);
    // its claim on tw expires, and a tw unfollow holds that record (its worker mid-call)
    const unfollow = { ...unfollowEvent(userId, 2500), lane: 'sync' as const };
    const later = Date.now() + 61_000;
    expect((await harness.store.claim(twKey(), eventFactsOf(unfollow), later)).claimed).toBe(true);
    // the first link's retry meets that claim and gives up (released on th)
    expect((await harness.run([first], 2, VIA.th)).batchItemFailures).toHaveLength(1);
    await harness.store.complete(twKey(), eventFactsOf(unfollow), {}, later);
    // Act: a newer link
    const response = await harness.run([await linkEventInTh(3000)], 1, VIA.th);
    // Assess: it links both channels; the first link, older, is then stale
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect(await harness.store.read(twKey())).toMatchObject({ linkedCustomerId: memberId });
    await harness.run([first], 3, VIA.th);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'skipped', reason: 'stale' });
  });

  it('a link that ends without reaching a sibling record an earlier attempt of it claimed leaves no mark there', async () => {
    // Prepare: the first link claims both records, then dies on Capillary; before its retry, Member Care deletes the
    // member, so the retry fails (member not found) without reaching the tw record
    const first = await linkEventInTh(2000);
    harness.capillary.injectFault({ method: 'GET', pathPrefix: `/v2/customers/${memberId}`, status: 503, times: 3 });
    expect((await harness.run([first], 1, VIA.th)).batchItemFailures).toHaveLength(1);
    harness.capillary.deleteCustomer(memberId);
    await harness.run([first], 2, VIA.th);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'member-not-found' });
    // Act: once the first link's claims have expired, a newer link to another member
    const secondId = harness.capillary.addMember({ mobile: '66898765432' });
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: '66898765432' }, { destination: BOT.th });
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => realNow + 150_000);
    const response = await harness.run([accountLinkEvent(userId, 3000, nonce)], 1, VIA.th);
    jest.restoreAllMocks();
    // Assess: both channels linked to it; nothing waits on the first link
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: secondId });
    expect(await harness.store.read(twKey())).toMatchObject({ linkedCustomerId: secondId });
  });

  it('leaves the channel of another LINE provider alone: the same user id there is not this person', async () => {
    // Act
    await linkInTh();
    // Assess
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(await harness.store.read({ destination: BOT.jp, userId })).toBeUndefined();
  });

  it("a failed attach puts back this channel's and the sibling's LINE profiles; the sibling's record is as it was", async () => {
    // Prepare: th's attach answers "LINE id taken" once, after both profiles came off the customer
    const twBefore = await harness.store.read(twKey());
    jest
      .spyOn(harness.deps.channels.get('th')!.members, 'attach')
      .mockResolvedValueOnce({ attached: false, reason: 'line-id-taken' });
    // Act
    const response = await linkInTh();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'line-id-taken' });
    expect(holdersOf(harness, userId)).toEqual([anonymousId]);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, anonymousId, 'th')).toEqual(OPTIN);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    expect({ ...(await harness.store.read(twKey())), updatedAt: undefined }).toEqual({
      ...twBefore,
      updatedAt: undefined,
    });
  });

  it("a sibling's attach refused after this channel's: everything back as before the link", async () => {
    // Prepare
    jest
      .spyOn(harness.deps.channels.get('tw')!.members, 'attach')
      .mockResolvedValueOnce({ attached: false, reason: 'line-id-taken' });
    // Act
    await linkInTh();
    // Assess
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'line-id-taken' });
    expect(holdersOf(harness, userId)).toEqual([anonymousId]);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    expect(await harness.store.read({ destination: BOT.th, userId })).toMatchObject({
      customerId: anonymousId,
      link: { status: 'failed', detail: 'line-id-taken' },
    });
  });

  it('fails the link before anything changes when the member carries another LINE user in a sibling account', async () => {
    // Prepare: another person is linked to the member on tw
    const other = lineUserId();
    const nonce = await nonceFor(harness, other, { kind: 'mobile', value: MOBILE }, { destination: BOT.tw });
    await harness.run([accountLinkEvent(other, 1500, nonce)], 1, VIA.tw);
    const writesBefore = writes(harness).length;
    // Act
    await linkInTh();
    // Assess
    expect(harness.settled.at(-1)?.outcome).toMatchObject({
      action: 'link-failed',
      detail: 'member-has-another-line-user',
    });
    expect(writes(harness)).toHaveLength(writesBefore);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
  });

  it("waits while an event of the sibling's channel holds its record, changing nothing, then links", async () => {
    // Prepare: a tw event claimed the record (its worker is still at work)
    const follow = { ...followEvent(userId, 1900), lane: 'sync' as const };
    expect((await harness.store.claim(twKey(), follow)).claimed).toBe(true);
    const writesBefore = writes(harness).length;
    const link = await linkEventInTh();
    // Act
    const held = await harness.run([link], 1, VIA.th);
    // Assess: retried, nothing written, this channel's record not held by the link meanwhile
    expect(held.batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-1)?.error?.name).toBe('ClaimHeldError');
    expect(writes(harness)).toHaveLength(writesBefore);
    expect((await harness.store.read({ destination: BOT.th, userId }))?.pendingEventId).toBeUndefined();
    // Act: the tw event completes; the link is retried
    const tw = await harness.store.read(twKey());
    await harness.store.complete(twKey(), follow, {});
    const retry = await harness.run([link], 2, VIA.th);
    // Assess
    expect(tw?.pendingEventId).toBeDefined();
    expect(retry.batchItemFailures).toEqual([]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
  });

  it("is stale when the sibling's record holds a newer link-lane event, and changes nothing", async () => {
    // Prepare: tw recorded a newer link-lane event (an unlink in tw's chat, say)
    const newer = { ...postbackEvent(userId, 2500, 'action=unlink'), lane: 'link' as const };
    await harness.store.claim(twKey(), newer);
    await harness.store.complete(twKey(), newer, {});
    const writesBefore = writes(harness).length;
    // Act
    const response = await linkInTh();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'skipped', reason: 'stale' });
    expect(writes(harness)).toHaveLength(writesBefore);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect((await harness.store.read({ destination: BOT.th, userId }))?.pendingEventId).toBeUndefined();
  });

  it("a link retried after the sibling's record completed (its worker died before its own) ends linked", async () => {
    // Prepare: the link's own completion fails once, after tw's record completed
    const link = await linkEventInTh();
    const { store } = harness.deps;
    const complete = store.complete.bind(store);
    jest.spyOn(store, 'complete').mockImplementation(async (key, event, change, now) => {
      if (key.destination === BOT.th && change.linkedCustomerId !== undefined) throw new Error('DynamoDB unavailable');
      return complete(key, event, change, now);
    });
    // Act
    const first = await harness.run([link], 1, VIA.th);
    jest.spyOn(store, 'complete').mockImplementation(complete);
    const retry = await harness.run([link], 2, VIA.th);
    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(retry.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'linked', customerId: memberId });
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
  });

  it("moves a sibling's profile the record does not name (its follow registered, then its answer was lost)", async () => {
    // Prepare: a new tw follow registers (8050: onto the th customer) but its completion fails; its claim is released
    const other = await startSiblingHarness();
    const member = other.capillary.addMember({ mobile: '66899999999' });
    const person = lineUserId();
    await other.run([followEvent(person, 1000)], 1, VIA.th);
    const twFollow = followEvent(person, 1100);
    const complete = other.deps.store.complete.bind(other.deps.store);
    jest.spyOn(other.deps.store, 'complete').mockRejectedValueOnce(new Error('DynamoDB unavailable'));
    await other.run([twFollow], 1, VIA.tw);
    jest.spyOn(other.deps.store, 'complete').mockImplementation(complete);
    await other.deps.store.complete(
      { destination: BOT.tw, userId: person },
      { ...twFollow, lane: 'sync' },
      {
        recordEvent: false,
      },
    );
    const [anonymous] = holdersOf(other, person) as [number];
    expect(lineAccountsOf(other, anonymous)).toEqual(['account-th', 'account-tw']);
    expect((await other.store.read({ destination: BOT.tw, userId: person }))?.customerId).toBeUndefined();
    // Act
    const nonce = await nonceFor(other, person, { kind: 'mobile', value: '66899999999' }, { destination: BOT.th });
    await other.run([accountLinkEvent(person, 2000, nonce)], 1, VIA.th);
    // Assess
    expect(other.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: member });
    expect(holdersOf(other, person)).toEqual([member]);
    expect(lineAccountsOf(other, member)).toEqual(['account-th', 'account-tw']);
    expect(lineAccountsOf(other, anonymous)).toEqual([]);
    // Capillary's notifications about the member reach the tw record in tw's own message group
    const index = new DynamoCustomerIndex(other.dynamo, other.config.tableName);
    expect(await index.usersOf(DEFAULT_CAPILLARY_ORG_ID, member)).toEqual(
      expect.arrayContaining([{ channel: 'tw', destination: BOT.tw, userId: person }]),
    );
    await other.close();
  });

  it("an unfollow in a channel whose profile is on no customer leaves the person's customer alone there", async () => {
    // Prepare: linked in th, then unlinked while tw is no friend: tw's profile is on no customer, its record names none
    await linkInTh();
    await harness.run([unfollowEvent(userId, 2600)], 1, VIA.tw);
    await harness.run([postbackEvent(userId, 3000, 'action=unlink')], 1, VIA.th);
    const [own] = holdersOf(harness, userId) as [number];
    expect(lineAccountsOf(harness, own)).toEqual(['account-th']);
    const subscriptionWrites = () =>
      writes(harness).filter((call) => call.path.startsWith(`/v2/customers/${own}/subscriptions`)).length;
    const before = subscriptionWrites();
    // Act: an unfollow of tw arrives (a redelivery, say), then a follow
    await harness.run([unfollowEvent(userId, 3100)], 1, VIA.tw);
    // Assess: the person's customer carries no tw profile: the unfollow writes nothing to it, the record names none
    expect(subscriptionWrites()).toBe(before);
    expect((await harness.store.read(twKey()))?.customerId).toBeUndefined();
    // Act + Assess: the follow registers tw's profile, onto the person's customer (8050), opted in
    await harness.run([followEvent(userId, 3200, { follow: { isUnblocked: true } })], 1, VIA.tw);
    expect(lineAccountsOf(harness, own)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, own, 'tw')).toEqual(OPTIN);
  });

  it('brings a sibling friend whose profile no customer carries (an interrupted link took it off) onto the member', async () => {
    // Prepare: tw's record names no customer (its follow's answer was lost) and its profile is off the anonymous
    // customer, as a link attempt that died after its detach leaves them
    const { customers, members } = harness.deps.channels.get('tw')!;
    const lost = { ...followEvent(userId, 1500), lane: 'sync' as const };
    await harness.store.claim(twKey(), lost);
    await harness.store.complete(twKey(), lost, { customerId: null, recordEvent: false });
    await members.detach(anonymousId, userId, { deadlineAt: Number.POSITIVE_INFINITY });
    expect(await customers.findProfileHolder(userId, { deadlineAt: Number.POSITIVE_INFINITY })).toBeUndefined();
    // Act
    await linkInTh();
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
    expect(await harness.store.read(twKey())).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
      link: { status: 'linked' },
    });
  });

  it("refuses to move siblings when the channel's bot user id is not the webhook's destination, changing nothing", async () => {
    // Prepare: th's events arrive with tw's bot as destination (a LINE_CHANNELS entry with another channel's token)
    const before = harness.capillary.state();
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, { destination: BOT.th });
    // Act
    const response = await harness.run([accountLinkEvent(userId, 2000, nonce)], 1, {
      channel: 'th',
      destination: BOT.tw,
    });
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    const error = harness.settled.at(-1)?.error;
    expect(error?.name).toBe('ChannelDestinationMismatchError');
    expect(error?.message).toMatch(/channel "th".*destination/);
    expect(harness.capillary.state().customers).toEqual(before.customers);
  });

  it('leaves a channel of another provider on the same org untouched', async () => {
    // Prepare: the same person follows jp, whose provider gives them another user id
    const jpUserId = lineUserId();
    await harness.run([followEvent(jpUserId, 1200)], 1, VIA.jp);
    const [jpCustomer] = holdersOf(harness, jpUserId) as [number];
    const jpRecord = await harness.store.read({ destination: BOT.jp, userId: jpUserId });
    // Act
    await linkInTh();
    // Assess
    expect(holdersOf(harness, jpUserId)).toEqual([jpCustomer]);
    expect(lineSubscriptionOf(harness, jpCustomer, 'jp')).toEqual(OPTIN);
    expect(await harness.store.read({ destination: BOT.jp, userId: jpUserId })).toEqual(jpRecord);
  });

  it('a follow in the sibling channel after the link lands on the member, with no new customer', async () => {
    // Prepare
    await linkInTh();
    const customersBefore = harness.capillary.state().customers.length;
    // Act
    await harness.run([followEvent(userId, 3000, { follow: { isUnblocked: true } })], 1, VIA.tw);
    // Assess
    expect(harness.capillary.state().customers).toHaveLength(customersBefore);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
  });

  it('an unlink takes every channel of the provider off the member: one customer of their own again', async () => {
    // Prepare
    await linkInTh();
    // Act
    const response = await harness.run([postbackEvent(userId, 3000, 'action=unlink')], 1, VIA.th);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    const holders = holdersOf(harness, userId);
    expect(holders).toHaveLength(1);
    const [own] = holders as [number];
    expect(own).not.toBe(memberId);
    expect(lineAccountsOf(harness, own)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, own, 'th')).toEqual(OPTIN);
    expect(lineSubscriptionOf(harness, own, 'tw')).toEqual(OPTIN);
    for (const destination of [BOT.th, BOT.tw]) {
      const record = await harness.store.read({ destination, userId });
      expect(record).toMatchObject({ customerId: own, link: { status: 'unlinked' } });
      expect(record?.linkedCustomerId).toBeUndefined();
      expect(record?.pendingEventId).toBeUndefined();
    }
  });

  it("an unlink whose sibling's own customer fails once ends, on the retry, with both channels unlinked on one", async () => {
    // Prepare: tw's registration of a customer of its own fails once (Capillary unavailable)
    await linkInTh();
    jest
      .spyOn(harness.deps.channels.get('tw')!.customers, 'register')
      .mockRejectedValueOnce(new CapillaryUnavailableError('add-customer-line', 1, 'HTTP 503'));
    const unlinkEvent = postbackEvent(userId, 3000, 'action=unlink');
    expect((await harness.run([unlinkEvent], 1, VIA.th)).batchItemFailures).toHaveLength(1);
    // Act: SQS retries it
    const response = await harness.run([unlinkEvent], 2, VIA.th);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'link', action: 'unlinked' });
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    const [own, ...others] = holdersOf(harness, userId);
    expect(others).toEqual([]);
    expect(lineAccountsOf(harness, own!)).toEqual(['account-th', 'account-tw']);
    for (const destination of [BOT.th, BOT.tw])
      expect(await harness.store.read({ destination, userId })).toMatchObject({
        customerId: own,
        link: { status: 'unlinked' },
      });
  });

  it('an unlink when the sibling channel is blocked: its profile leaves the member, it gets no customer', async () => {
    // Prepare
    await linkInTh();
    await harness.run([{ ...followEvent(userId, 2600), type: 'unfollow' }], 1, VIA.tw);
    // Act
    await harness.run([postbackEvent(userId, 3000, 'action=unlink')], 1, VIA.th);
    // Assess
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    const [own] = holdersOf(harness, userId) as [number];
    expect(lineAccountsOf(harness, own)).toEqual(['account-th']);
    const tw = await harness.store.read(twKey());
    expect(tw).toMatchObject({ subscription: 'OPTOUT', link: { status: 'unlinked' } });
    expect(tw?.customerId).toBeUndefined();
  });
});

describe('worker: a sibling channel the person does not follow when they link', () => {
  let harness: SiblingHarness;
  afterEach(() => harness.close());

  /** A person who follows th only, and links there. */
  async function linkedFollowingThOnly() {
    const person = await personLinkedOnThOnly(MOBILE);
    harness = person.harness;
    return person;
  }

  it('is linked all the same: their later follow there lands on the member, recorded linked, with no new customer', async () => {
    // Prepare
    const { memberId, userId } = await linkedFollowingThOnly();
    const customersBefore = harness.capillary.state().customers.length;
    // Act
    const response = await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.capillary.state().customers).toHaveLength(customersBefore);
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
      link: { status: 'linked' },
      subscription: 'OPTIN',
    });
    // An unlink by the member's reference finds the person in both channels.
    const index = new DynamoCustomerIndex(harness.dynamo, harness.config.tableName);
    expect((await index.usersOf(DEFAULT_CAPILLARY_ORG_ID, memberId)).map((user) => user.channel).sort()).toEqual([
      'th',
      'tw',
    ]);
  });

  it('their follow there joins the member the record names without registering, so Capillary never picks the customer', async () => {
    // Prepare: the person's first customer (their th follow's registration) still carries the registration key
    const { memberId, userId } = await linkedFollowingThOnly();
    const writesBefore = writes(harness).length;
    // Act
    const response = await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
    // Assess: one attach to the member and its opt-in; no registration that Capillary could file elsewhere
    expect(response.batchItemFailures).toEqual([]);
    const followWrites = writes(harness).slice(writesBefore);
    expect(followWrites.filter((call) => call.requestBody?.includes('"source":"INSTORE"'))).toEqual([]);
    expect(followWrites.map((call) => call.path)).toEqual(['/v2/customers', `/v2/customers/${memberId}/subscriptions`]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'register', customerId: memberId });
    expect(holdersOf(harness, userId)).toEqual([memberId]);
  });

  it('an unlink before they follow there leaves that channel unlinked too: their follow then gets their own customer', async () => {
    // Prepare
    const { memberId, userId } = await linkedFollowingThOnly();
    // Act
    await harness.run([postbackEvent(userId, 3000, 'action=unlink')], 1, VIA.th);
    await harness.run([followEvent(userId, 4000)], 1, VIA.tw);
    // Assess
    const [own] = holdersOf(harness, userId) as [number];
    expect(own).not.toBe(memberId);
    expect(lineAccountsOf(harness, own)).toEqual(['account-th', 'account-tw']);
    const twRecord = await harness.store.read({ destination: BOT.tw, userId });
    expect(twRecord).toMatchObject({ customerId: own, link: { status: 'unlinked' } });
    expect(twRecord?.linkedCustomerId).toBeUndefined();
  });
});

describe('worker: a link whose merge request is pending, in one channel of a provider', () => {
  let harness: SiblingHarness;
  let memberId: number;
  let userId: string;
  let anonymousId: number;
  beforeEach(async () => {
    // Prepare: one person follows th and tw (one anonymous customer), merge-request mode
    harness = await startSiblingHarness({ anonymousCustomer: 'merge-request' });
    memberId = harness.capillary.addMember({ mobile: MOBILE });
    userId = lineUserId();
    await harness.run([followEvent(userId, 1000)], 1, VIA.th);
    await harness.run([followEvent(userId, 1100)], 1, VIA.tw);
    [anonymousId] = holdersOf(harness, userId) as [number];
  });
  afterEach(() => {
    jest.restoreAllMocks();
    return harness.close();
  });
  const linkOnTh = async () =>
    harness.run(
      [accountLinkEvent(userId, 2000, await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, VIA.th))],
      1,
      VIA.th,
    );

  it("records the sibling pending on the member too, on the anonymous customer; the sibling's record first (a crash after its own leaves no claim held)", async () => {
    const completed = jest.spyOn(UserSyncStore.prototype, 'complete');
    // Act
    await linkOnTh();
    // Assess: both records wait for the same request, tw written before th
    const [request] = harness.capillary.state().mergeRequests;
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ result: 'link', action: 'merge-pending' });
    expect(completed.mock.calls.map(([key, , change]) => [key.destination, change.recordEvent ?? true])).toEqual([
      [BOT.tw, true],
      [BOT.th, true],
    ]);
    const pending = {
      customerId: anonymousId,
      linkedCustomerId: memberId,
      link: { status: 'merge-pending', detail: `request ${request!.id}` },
    };
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject(pending);
    expect(await harness.store.read({ destination: BOT.th, userId })).toMatchObject(pending);
    expect((await harness.store.read({ destination: BOT.tw, userId }))?.pendingEventId).toBeUndefined();
    expect(holdersOf(harness, userId)).toEqual([anonymousId]);
  });

  it("the merge's notification settles both channels' records: linked to the member, which carries both profiles", async () => {
    await linkOnTh();
    const [request] = harness.capillary.state().mergeRequests;
    harness.capillary.approveMergeRequest(request!.id);
    // Act: the notifications function queues the merge to each record naming the anonymous customer
    const notice = { type: CAPILLARY_MERGE_TYPE, survivor: memberId, victim: anonymousId } as const;
    for (const via of [VIA.th, VIA.tw])
      await harness.run(
        [identityEvent(userId, notice, identityEventId('merged', via.destination, userId), 3000)],
        1,
        via,
      );
    // Assess
    for (const destination of [BOT.th, BOT.tw])
      expect(await harness.store.read({ destination, userId })).toMatchObject({
        customerId: memberId,
        linkedCustomerId: memberId,
        link: { status: 'linked' },
      });
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
  });
});

describe('worker: merge-request mode, a channel of the provider the user follows only while the link waits', () => {
  let harness: SiblingHarness;
  afterEach(() => harness.close());

  /** A friend of th only links on th: a merge request is filed, and tw is recorded pending with no customer. */
  async function linkedOnThOnly() {
    harness = await startSiblingHarness({ anonymousCustomer: 'merge-request' });
    const memberId = harness.capillary.addMember({ mobile: MOBILE });
    const userId = lineUserId();
    await harness.run([followEvent(userId, 1000)], 1, VIA.th);
    const [anonymousId] = holdersOf(harness, userId) as [number];
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, VIA.th);
    await harness.run([accountLinkEvent(userId, 2000, nonce)], 1, VIA.th);
    const [request] = harness.capillary.state().mergeRequests;
    return { memberId, userId, anonymousId, request: request! };
  }

  it('registers the follow with the anonymous customer (the merge moves it), never on the member; a rejection fails both links', async () => {
    // Prepare: Capillary keeps the request pending
    const { memberId, userId, anonymousId, request } = await linkedOnThOnly();
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({
      linkedCustomerId: memberId,
      link: { status: 'merge-pending' },
    });
    // Act: the user follows tw
    const before = writes(harness).length;
    await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
    // Assess: both profiles on the anonymous customer, the member untouched (nothing written names it)
    const named = writes(harness)
      .slice(before)
      .filter((call) => call.path.includes(String(memberId)) || (call.requestBody ?? '').includes(MOBILE));
    expect(named).toEqual([]);
    expect(holdersOf(harness, userId)).toEqual([anonymousId]);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    // Act: Capillary rejects the request; its notification reaches each record naming the anonymous customer
    harness.capillary.rejectMergeRequest(request.id);
    const notice = {
      type: CAPILLARY_MERGE_TYPE,
      customerId: anonymousId,
      mergeRequestId: String(request.id),
    } as const;
    for (const via of [VIA.th, VIA.tw])
      await harness.run(
        [
          identityEvent(
            userId,
            { ...notice, rejected: true },
            identityEventId('rejected', via.destination, userId),
            4000,
          ),
        ],
        1,
        via,
      );
    // Assess
    for (const destination of [BOT.th, BOT.tw]) {
      const record = await harness.store.read({ destination, userId });
      expect(record).toMatchObject({ customerId: anonymousId, link: { status: 'failed' } });
      expect(record?.linkedCustomerId).toBeUndefined();
    }
  });
  it.each([
    ['rejected', 'failed', undefined],
    ['approved', 'linked', 'member'],
  ])(
    'the first follow on that channel after the request was %s (no notice reached its record) settles its link: %s',
    async (outcome, status, linkedTo) => {
      // Prepare: Capillary reviews the request
      const { memberId, userId, anonymousId, request } = await linkedOnThOnly();
      if (outcome === 'rejected') harness.capillary.rejectMergeRequest(request.id);
      else harness.capillary.approveMergeRequest(request.id);
      // Act: the user follows tw
      await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
      // Assess
      const carrier = linkedTo === 'member' ? memberId : anonymousId;
      expect(holdersOf(harness, userId)).toEqual([carrier]);
      const record = await harness.store.read({ destination: BOT.tw, userId });
      expect(record).toMatchObject({ customerId: carrier, link: { status } });
      expect(record?.linkedCustomerId).toBe(linkedTo === 'member' ? memberId : undefined);
    },
  );
});
