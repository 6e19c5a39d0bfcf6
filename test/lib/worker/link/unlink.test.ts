import { bridgeUnlinkEvent } from '../../../../lib/link-api/bridge-events';
import { accountLinkEvent, followEvent, lineUserId, postbackEvent } from '../../../../local/line-event-factory';
import type { WorkerHarness } from '../../../../local/rigs/worker-rig';
import { holders, lineSubscription, MOBILE, nonceFor, startLinkHarness, userKey } from '../../../support/link-harness';

describe('worker: unlinking', () => {
  let harness: WorkerHarness;
  afterEach(() => harness.close());

  it("unlink takes the LINE id off the member, answers in chat, keeps the record's state; the next follow registers as today", async () => {
    harness = await startLinkHarness();
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

  it('unlinks from the link API (bridge.unlink) without answering in chat', async () => {
    harness = await startLinkHarness();
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
