import { notificationsOf } from '../../../lib/notifications/envelope';
import { handleNotificationRequest } from '../../../lib/notifications/handle-notification-request';
import { interpretTier, isTierEvent } from '../../../lib/notifications/tier-notices';
import { parseQueuedEvent } from '../../../lib/queue/queued-event';
import type { LineUserKey } from '../../../lib/store/user-sync-store';
import { receiveAll } from '../../../local/rigs/aws-kit';
import {
  notificationRequest,
  startNotificationsHarness,
  type NotificationsHarness,
} from '../../../local/rigs/notifications-rig';

/** The current docs' tierUpgraded sample (capillary docs "Event schema – tier"), shape A. */
const upgraded = (customerId: number, programId = 978, eventId = 'fac88937-7740-48a3-b34e-fcfedb1f57a0') => ({
  eventName: 'tierUpgraded',
  eventId,
  orgId: 50261,
  refId: '50261_vdFdiTjSeg',
  createdAt: 1724058034369,
  data: {
    customerIdentifiers: { customerId, instore: { mobile: '919817074381', cardNumbers: [] } },
    loyaltyProgramDetails: {
      id: programId,
      isDefault: true,
      tiers: [
        { tierNumber: 1, tierName: 'silver' },
        { tierNumber: 2, tierName: 'GOLD' },
      ],
    },
    loyaltyProgramId: programId,
    previousTierNumber: 1,
    upgradedTierNumber: 2,
  },
});
/** The older samples: numbers as floats, no tier names, shape B with an org-prefixed type. */
const renewedShapeB = (customerId: number) => ({
  eventId: 'ccf65d56',
  eventType: '50952_tierRenewed',
  attributes: {
    createdAt: 1720435141002.0,
    data: {
      currentTierNumber: 3.0,
      customerIdentifiers: { customerId: customerId + 0.0 },
      loyaltyProgramDetails: { id: 1676.0, tiers: null },
      loyaltyProgramId: 1676.0,
    },
  },
});

const interpreted = (body: unknown, programId?: number) => {
  const [notification] = notificationsOf(body);
  if (!notification || !isTierEvent(notification.name)) throw new Error('not a tier event');
  return interpretTier({ ...notification, name: notification.name }, programId);
};

describe('interpretTier', () => {
  it('reads the new tier, its name from the program details, and keys the notification by its eventId', () => {
    expect(interpreted(upgraded(347266498))).toEqual({
      kind: 'tier',
      notice: { type: 'capillary.tier', customerId: 347266498, tierNumber: 2, tierName: 'GOLD' },
      customerId: 347266498,
      key: 'event:fac88937-7740-48a3-b34e-fcfedb1f57a0',
    });
    expect(interpreted(renewedShapeB(379499720))).toMatchObject({
      notice: { type: 'capillary.tier', customerId: 379499720, tierNumber: 3 },
    });
  });

  it('CAPILLARY_LOYALTY_PROGRAM_ID: another program is ignored; without it any program applies', () => {
    expect(interpreted(upgraded(1, 978), 979)).toEqual({ kind: 'ignored', reason: 'other-program' });
    expect(interpreted(upgraded(1, 978), 978)).toMatchObject({ kind: 'tier' });
    expect(interpreted(upgraded(1, 5))).toMatchObject({ kind: 'tier' });
  });

  it('refuses a tier event it can never apply, naming what is missing', () => {
    const body = upgraded(1);
    delete (body.data as Partial<typeof body.data>).upgradedTierNumber;
    expect(() => interpreted(body)).toThrow(/\$: tierUpgraded without data.upgradedTierNumber/);
  });
});

describe('handleNotificationRequest: tier notifications (dynalite + fauxqs)', () => {
  let harness: NotificationsHarness;
  afterEach(() => harness.close());

  const key = (userId: string, destination: string, channel: string): LineUserKey => ({
    destination,
    userId,
    owner: { channel, capillaryOrg: 'default' },
  });
  async function userWith(user: LineUserKey, customerId: number, linkedCustomerId?: number) {
    const facts = { type: 'follow', webhookEventId: `E-${user.userId}`, timestamp: 1 };
    await harness.users.claim(user, facts);
    await harness.users.complete(user, facts, { customerId, linkedCustomerId });
  }

  it("queues one tier event per LINE user of the customer into that user's group, once", async () => {
    harness = await startNotificationsHarness({ loyaltyProgramId: 978 });
    await userWith(key('Ua', `U${'a'.repeat(32)}`, 'default'), 7, 7);
    await userWith(key('Ub', `U${'b'.repeat(32)}`, 'th'), 7, 7);
    await userWith(key('Uc', `U${'a'.repeat(32)}`, 'default'), 8);
    // Act
    const answer = await handleNotificationRequest(notificationRequest(upgraded(7)), harness.deps);
    const again = await handleNotificationRequest(notificationRequest(upgraded(7)), harness.deps);
    const otherProgram = await handleNotificationRequest(notificationRequest(upgraded(7, 1, 'e2')), harness.deps);
    // Assess
    expect(JSON.parse(answer.body as string)).toMatchObject({ applied: 1, queued: 2 });
    expect(JSON.parse(again.body as string)).toMatchObject({ duplicates: 1, queued: 0 });
    expect(JSON.parse(otherProgram.body as string)).toMatchObject({ ignored: 1, queued: 0 });
    const queued = (await receiveAll(harness.sqs, harness.queue.queueUrl)).map((message) => ({
      group: message.Attributes?.MessageGroupId,
      ...parseQueuedEvent(message.Body as string),
    }));
    expect(queued.map(({ group, channel, event }) => [group, channel, event.type, event.timestamp]).sort()).toEqual([
      [`U${'a'.repeat(32)}:Ua`, 'default', 'capillary.tier', 1724058034369],
      [`U${'b'.repeat(32)}:Ub`, 'th', 'capillary.tier', 1724058034369],
    ]);
    expect(queued[0]?.event.capillary).toEqual({ customerId: 7, tierNumber: 2, tierName: 'GOLD' });
  });

  it('answers 400 naming the field for a tier event without its new tier', async () => {
    harness = await startNotificationsHarness();
    const body = { ...upgraded(7), data: { ...upgraded(7).data, upgradedTierNumber: 'two' } };
    const answer = await handleNotificationRequest(notificationRequest(body), harness.deps);
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string)).toMatchObject({ field: '$.data' });
  });
});
