import { parseQueuedEvent, serializeQueuedEvent } from '../../../../lib/queue/queued-event';
import { accountLinkEvent, followEvent, lineUserId, postbackEvent } from '../../../../local/line-event-factory';
import { MOBILE, nonceFor } from '../../../support/link-harness';
import {
  BOT,
  holdersOf,
  lineAccountsOf,
  lineSubscriptionOf,
  personOnBothChannels,
  VIA,
  type SiblingHarness,
} from '../../../support/sibling-harness';

const OPTIN = { BULK: 'OPTIN', TRANS: 'OPTIN' };
const OPTOUT = { BULK: 'OPTOUT', TRANS: 'OPTOUT' };
/** Capillary writes (reads and the OAuth token excluded). */
const writes = (harness: SiblingHarness) =>
  harness.capillary.calls().filter((call) => call.method === 'POST' && call.path.startsWith('/v2/'));

describe('worker: a link moves the LINE profiles of every channel of the provider (bridge.link-sibling)', () => {
  let harness: SiblingHarness;
  let memberId: number;
  let userId: string;
  let anonymousId: number;
  beforeEach(async () => {
    ({ harness, memberId, userId, anonymousId } = await personOnBothChannels(MOBILE));
  });
  afterEach(() => harness.close());

  const linkInTh = async () => {
    const nonce = await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, { destination: BOT.th });
    return harness.run([accountLinkEvent(userId, 2000, nonce)], 1, VIA.th);
  };

  it('linked in one channel: the member carries both LINE profiles opted in, the old customer none', async () => {
    // Act
    expect((await linkInTh()).batchItemFailures).toEqual([]);
    const queued = await harness.queued();
    expect((await harness.deliver(queued)).batchItemFailures).toEqual([]);
    // Assess: one move queued, in tw's FIFO group for this user
    expect(queued).toHaveLength(1);
    expect(queued[0]!.Attributes).toMatchObject({ MessageGroupId: `${BOT.tw}:${userId}` });
    expect(parseQueuedEvent(queued[0]!.Body!)).toMatchObject({
      channel: 'tw',
      destination: BOT.tw,
      event: { type: 'bridge.link-sibling', sibling: { memberId } },
    });
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, memberId, 'th')).toEqual(OPTIN);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, anonymousId)).toEqual([]);
    expect(lineSubscriptionOf(harness, anonymousId, 'th')).toEqual(OPTOUT);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTOUT);
    for (const destination of [BOT.th, BOT.tw])
      expect(await harness.store.read({ destination, userId })).toMatchObject({
        customerId: memberId,
        linkedCustomerId: memberId,
        subscription: 'OPTIN',
        link: { status: 'linked' },
      });
  });

  it('a redelivered move changes nothing and writes nothing to Capillary', async () => {
    // Prepare
    await linkInTh();
    const queued = await harness.queued();
    await harness.deliver(queued);
    const writesBefore = writes(harness).length;
    const recordBefore = await harness.store.read({ destination: BOT.tw, userId });
    // Act
    const response = await harness.deliver(queued, 2);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'skipped', reason: 'duplicate' });
    expect(writes(harness)).toHaveLength(writesBefore);
    expect(await harness.store.read({ destination: BOT.tw, userId })).toEqual(recordBefore);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th', 'account-tw']);
  });

  it('a move for a user already on the member (a repeated link) writes nothing to Capillary', async () => {
    // Prepare: the move applied; the same move queued again under another id (a second link to the member)
    await linkInTh();
    const [move] = await harness.queued();
    await harness.deliver([move!]);
    const writesBefore = writes(harness).length;
    const queuedMove = parseQueuedEvent(move!.Body!);
    const event = { ...queuedMove.event, webhookEventId: 'SIBLING-again', timestamp: queuedMove.event.timestamp + 1 };
    const again = { ...move!, MessageId: 'again', Body: serializeQueuedEvent({ ...queuedMove, event }) };
    // Act
    await harness.deliver([again]);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'linked', customerId: memberId });
    expect(writes(harness)).toHaveLength(writesBefore);
  });

  it('an attach that fails on the sibling puts its LINE profile and opt-in back on its customer', async () => {
    // Prepare: tw's attach answers "LINE id taken" once
    await linkInTh();
    const queued = await harness.queued();
    const { members } = harness.deps.channels.get('tw')!;
    jest.spyOn(members, 'attach').mockResolvedValueOnce({ attached: false, reason: 'line-id-taken' });
    // Act
    const response = await harness.deliver(queued);
    // Assess: tw stays on its customer as before; th stays linked
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'link-failed', detail: 'line-id-taken' });
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-tw']);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, memberId)).toEqual(['account-th']);
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({
      customerId: anonymousId,
      subscription: 'OPTIN',
      link: { status: 'failed', detail: 'line-id-taken' },
    });
    expect((await harness.store.read({ destination: BOT.tw, userId }))?.linkedCustomerId).toBeUndefined();
  });

  it('leaves a channel of another provider on the same org untouched', async () => {
    // Prepare: the same person follows jp, whose provider gives them another user id
    const jpUserId = lineUserId();
    await harness.run([followEvent(jpUserId, 1200)], 1, VIA.jp);
    const [jpCustomer] = holdersOf(harness, jpUserId) as [number];
    const jpRecord = await harness.store.read({ destination: BOT.jp, userId: jpUserId });
    // Act
    await linkInTh();
    const queued = await harness.queued();
    await harness.deliver(queued);
    // Assess
    expect(queued.map((message) => parseQueuedEvent(message.Body!).channel)).toEqual(['tw']);
    expect(holdersOf(harness, jpUserId)).toEqual([jpCustomer]);
    expect(lineSubscriptionOf(harness, jpCustomer, 'jp')).toEqual(OPTIN);
    expect(await harness.store.read({ destination: BOT.jp, userId: jpUserId })).toEqual(jpRecord);
  });

  it('an unlink is per channel: the other channel stays linked on the member', async () => {
    // Prepare
    await linkInTh();
    await harness.deliver(await harness.queued());
    // Act
    const response = await harness.run([postbackEvent(userId, 3000, 'action=unlink')], 1, VIA.th);
    // Assess: tw untouched; th's own registration merges into the customer holding the LINE id (8050): the member
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toEqual({ result: 'link', action: 'unlinked', customerId: memberId });
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({
      customerId: memberId,
      linkedCustomerId: memberId,
      link: { status: 'linked' },
    });
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual(OPTIN);
    const th = await harness.store.read({ destination: BOT.th, userId });
    expect(th).toMatchObject({ customerId: memberId, link: { status: 'unlinked' } });
    expect(th?.linkedCustomerId).toBeUndefined();
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(await harness.queued()).toEqual([]);
  });
});
