import { siblingEvent } from '../../../../lib/worker/link/sibling-profiles';
import { accountLinkEvent, lineUserId } from '../../../../local/line-event-factory';
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

describe('worker: the link side of moving the provider’s other channels', () => {
  let harness: SiblingHarness;
  let memberId: number;
  let userId: string;
  let anonymousId: number;
  beforeEach(async () => {
    ({ harness, memberId, userId, anonymousId } = await personOnBothChannels(MOBILE));
  });
  afterEach(() => harness.close());

  const linkEventInTh = async () =>
    accountLinkEvent(
      userId,
      2000,
      await nonceFor(harness, userId, { kind: 'mobile', value: MOBILE }, { destination: BOT.th }),
    );

  it("a failed attach puts back this channel's and the sibling's LINE profiles and queues nothing", async () => {
    // Prepare: th's attach answers "LINE id taken" once, after both profiles came off the customer
    const { members } = harness.deps.channels.get('th')!;
    jest.spyOn(members, 'attach').mockResolvedValueOnce({ attached: false, reason: 'line-id-taken' });
    // Act
    const response = await harness.run([await linkEventInTh()], 1, VIA.th);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'link-failed', detail: 'line-id-taken' });
    expect(holdersOf(harness, userId)).toEqual([anonymousId]);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect(lineSubscriptionOf(harness, anonymousId, 'th')).toEqual(OPTIN);
    expect(lineSubscriptionOf(harness, anonymousId, 'tw')).toEqual(OPTIN);
    expect(lineAccountsOf(harness, memberId)).toEqual([]);
    expect(await harness.queued()).toEqual([]);
  });

  it('fails the link before anything changes when the member carries another LINE user in a sibling account', async () => {
    // Prepare: another person is linked to the member on tw
    const other = lineUserId();
    await harness.run(
      [
        accountLinkEvent(
          other,
          1500,
          await nonceFor(harness, other, { kind: 'mobile', value: MOBILE }, { destination: BOT.tw }),
        ),
      ],
      1,
      VIA.tw,
    );
    const writesBefore = harness.capillary.calls().filter((call) => call.method === 'POST').length;
    // Act
    await harness.run([await linkEventInTh()], 1, VIA.th);
    // Assess
    expect(harness.settled.at(-1)?.outcome).toMatchObject({
      action: 'link-failed',
      detail: 'member-has-another-line-user',
    });
    expect(harness.capillary.calls().filter((call) => call.method === 'POST')).toHaveLength(writesBefore);
    expect(lineAccountsOf(harness, anonymousId)).toEqual(['account-th', 'account-tw']);
    expect(await harness.queued()).toEqual([]);
  });

  it('without a queue (QUEUE_URL unset), a link that must move a sibling fails before anything changes and is retried', async () => {
    // Prepare
    delete harness.deps.queue;
    const writesBefore = harness.capillary.calls().filter((call) => call.method === 'POST').length;
    // Act
    const response = await harness.run([await linkEventInTh()], 1, VIA.th);
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(harness.settled.at(-1)?.error?.name).toBe('SiblingQueueMissingError');
    expect(harness.capillary.calls().filter((call) => call.method === 'POST')).toHaveLength(writesBefore);
  });

  it('a retried link queues the same move: SQS keeps one', async () => {
    // Prepare: the link's completion fails once, after the move was queued
    const link = await linkEventInTh();
    const { store } = harness.deps;
    const complete = store.complete.bind(store);
    jest.spyOn(store, 'complete').mockImplementationOnce(async () => {
      throw new Error('DynamoDB unavailable');
    });
    // Act
    const first = await harness.run([link], 1, VIA.th);
    jest.spyOn(store, 'complete').mockImplementation(complete);
    const retry = await harness.run([link], 2, VIA.th);
    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(retry.batchItemFailures).toEqual([]);
    expect(harness.settled.at(-1)?.outcome).toMatchObject({ action: 'linked', customerId: memberId });
    expect(await harness.queued()).toHaveLength(1);
  });

  it('names the move by the link event and the sibling bot, the same on every retry of the link', () => {
    const move = { memberId: 7, customer: { kind: 'mobile', value: MOBILE } } as const;
    const event = siblingEvent('LINK-1', BOT.tw, userId, move, 5000);
    expect(event).toMatchObject({
      type: 'bridge.link-sibling',
      timestamp: 5000,
      sibling: { memberId: 7, customer: { mobile: MOBILE } },
    });
    expect(siblingEvent('LINK-1', BOT.tw, 'U-other', move, 6000).webhookEventId).toBe(event.webhookEventId);
    expect(siblingEvent('LINK-1', BOT.jp, userId, move, 5000).webhookEventId).not.toBe(event.webhookEventId);
    expect(siblingEvent('LINK-2', BOT.tw, userId, move, 5000).webhookEventId).not.toBe(event.webhookEventId);
    expect(event.webhookEventId.length).toBeLessThanOrEqual(128);
  });
});
