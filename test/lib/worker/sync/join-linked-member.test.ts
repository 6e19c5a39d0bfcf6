import { followEvent } from '../../../../local/line-event-factory';
import { MOBILE } from '../../../support/link-harness';
import {
  BOT,
  holdersOf,
  lineSubscriptionOf,
  personLinkedOnThOnly,
  VIA,
  type SiblingHarness,
} from '../../../support/sibling-harness';

describe('worker: the follow of someone recorded linked on a channel they did not follow', () => {
  let harness: SiblingHarness;
  afterEach(() => harness.close());

  /** A person who follows th only and links there: their tw record names the member and no customer. */
  async function linkedOnThOnly() {
    const person = await personLinkedOnThOnly(MOBILE);
    harness = person.harness;
    const { memberId, userId } = person;
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({ linkedCustomerId: memberId });
    return person;
  }

  it('joins the member, opted in there', async () => {
    const { memberId, userId } = await linkedOnThOnly();
    await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
    expect(holdersOf(harness, userId)).toEqual([memberId]);
    expect(lineSubscriptionOf(harness, memberId, 'tw')).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect(await harness.store.read({ destination: BOT.tw, userId })).toMatchObject({
      customerId: memberId,
      subscription: 'OPTIN',
    });
  });

  it('registers as any follower when the member is gone in Capillary (its deletion not yet notified)', async () => {
    // Prepare
    const { memberId, userId } = await linkedOnThOnly();
    harness.capillary.deleteCustomer(memberId);
    // Act
    const response = await harness.run([followEvent(userId, 3000)], 1, VIA.tw);
    // Assess: nothing waits in the DLQ for a member that will not come back; the follow has a customer
    expect(response.batchItemFailures).toEqual([]);
    const [own, ...others] = holdersOf(harness, userId);
    expect(others).toEqual([]);
    expect(own).not.toBe(memberId);
    expect(lineSubscriptionOf(harness, own!, 'tw')).toEqual({ BULK: 'OPTIN', TRANS: 'OPTIN' });
    expect((await harness.store.read({ destination: BOT.tw, userId }))?.customerId).toBe(own);
  });
});
