import { createHash } from 'node:crypto';

import { DEFAULT_LOYALTY_PROGRAM } from '../../../local/standins/capillary-loyalty';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';
import { closedAfterEach } from '../../support/closed-after-each';
import { startNotificationReceiver } from '../../support/notification-receiver';

const startStandIn = closedAfterEach(startCapillaryStandIn);

async function admin(standIn: CapillaryStandIn, route: string, body: unknown) {
  const response = await fetch(`${standIn.url}/__admin/${route}`, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function readCustomer(standIn: CapillaryStandIn, customerId: number, embed?: string) {
  // The stand-in's default till, its password sent as Capillary wants it: MD5-hashed.
  const basic = Buffer.from(`local.till:${createHash('md5').update('local-password').digest('hex')}`);
  const response = await fetch(
    `${standIn.url}/v2/customers/${customerId}${embed === undefined ? '' : `?embed=${embed}`}`,
    { headers: { authorization: `Basic ${basic.toString('base64')}` }, signal: AbortSignal.timeout(5000) },
  );
  return (await response.json()) as Record<string, unknown>;
}

describe('Capillary stand-in: tiers and points', () => {
  it('changes a customer’s tier (by name or number) and points on the admin routes, shown in the state', async () => {
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });

    const upgrade = await admin(standIn, 'tier', { customerId, tier: 'gold' });
    const downgrade = await admin(standIn, 'tier', { customerId, tier: 1 });
    const points = await admin(standIn, 'points', {
      customerId,
      points: 450,
      expirySchedules: [{ points: 100, expiryDate: '2026-06-30' }],
    });

    expect(upgrade.body).toEqual({ customerId, previousTierNumber: 1, tierNumber: 2 });
    expect(downgrade.body).toEqual({ customerId, previousTierNumber: 2, tierNumber: 1 });
    expect(points.body).toEqual({
      tierNumber: 1,
      points: 450,
      expirySchedules: [{ points: 100, expiryDate: '2026-06-30' }],
    });
    expect(standIn.state().loyalty).toEqual({ [customerId]: points.body });
  });

  it('notifies a tier change and a points change as Capillary would, and an unchanged balance not at all', async () => {
    const receiver = await startNotificationReceiver();
    try {
      const standIn = await startStandIn({ notifications: { url: receiver.url, authorization: 'Bearer t' } });
      const customerId = standIn.addMember({ mobile: '66812345678' });

      await admin(standIn, 'tier', { customerId, tier: 'gold' });
      await admin(standIn, 'points', { customerId, points: 450 });
      await admin(standIn, 'points', { customerId, points: 450 });
      await admin(standIn, 'points', { customerId, points: 120 });
      await standIn.notificationsSettled();

      const bodies = receiver.received.map(({ body }) => body);
      expect(bodies.map((body) => body.eventName)).toEqual(['tierUpgraded', 'pointsIssued', 'pointsRedeemed']);
      const customerInProgram = {
        customerIdentifiers: { customerId },
        loyaltyProgramId: DEFAULT_LOYALTY_PROGRAM.id,
      };
      expect(bodies[1]).toEqual(
        expect.objectContaining({
          eventId: expect.any(String),
          data: expect.objectContaining({
            ...customerInProgram,
            programCurrentPoints: 450,
            totalPointsIssued: 450,
            regularPointsIssued: 450,
          }),
        }),
      );
      expect(bodies[2]?.data).toEqual(expect.objectContaining({ ...customerInProgram, programCurrentPoints: 120 }));
      expect(bodies[2]?.data).not.toHaveProperty('totalPointsIssued');
    } finally {
      await receiver.close();
    }
  });

  it('refuses an unknown customer, an unknown tier and malformed bodies', async () => {
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });

    expect(await admin(standIn, 'tier', { customerId: customerId + 1, tier: 'Gold' })).toMatchObject({ status: 400 });
    expect(await admin(standIn, 'tier', { customerId, tier: 'Bronze' })).toEqual({
      status: 400,
      body: { error: 'no tier Bronze; the tiers: Silver, Gold, Platinum' },
    });
    expect((await admin(standIn, 'tier', { customerId })).status).toBe(400);
    expect((await admin(standIn, 'points', { customerId, points: '12' })).status).toBe(400);
    expect((await admin(standIn, 'points', { customerId, points: 1, expirySchedules: [{ points: 1 }] })).status).toBe(
      400,
    );
    expect(standIn.state().loyalty).toEqual({});
  });

  it('answers the embeds of a customer read in the field names of Capillary’s samples', async () => {
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });
    standIn.loyalty.setTier(customerId, 'Gold');
    standIn.loyalty.setPoints(customerId, 1200, [{ points: 300, expiryDate: '2026-04-27' }]);

    const plain = await readCustomer(standIn, customerId);
    const full = await readCustomer(standIn, customerId, 'points,mlp,expirySchedules,gapDetails');

    expect(plain).not.toHaveProperty('loyaltyProgramDetails');
    expect(plain).not.toHaveProperty('pointsSummary');
    expect(full.pointsSummary).toMatchObject({
      loyaltyPoints: 1200,
      currentSlab: 'Gold',
      slabSNo: 2,
      nextSlab: 'Platinum',
    });
    expect(full.loyaltyProgramDetails).toEqual([
      expect.objectContaining({
        programId: 978,
        loyaltyPoints: 1200,
        currentSlab: 'Gold',
        slabSNo: 2,
        nextSlabSerialNumber: 3,
        upgradeStrategies: [
          {
            upgradeBasedOn: 'CURRENT_POINTS',
            upgradeThreshold: 5000,
            customerUpgradeEntityValues: { currentValue: 1200, gapToUpgrade: 3800 },
          },
        ],
      }),
    ]);
    expect(full.expirySchedules).toEqual([{ points: 300, expiryDate: '2026-04-27', programId: 978 }]);
  });

  it('puts an unchanged customer in the lowest tier with no points, and the top tier has no next tier nor gap', async () => {
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });
    const top = standIn.addMember({ mobile: '66812345679' });
    standIn.loyalty.setTier(top, 'Platinum');

    const base = await readCustomer(standIn, customerId, 'mlp');
    const best = await readCustomer(standIn, top, 'mlp,gapDetails');

    expect(base.loyaltyProgramDetails).toEqual([
      expect.objectContaining({ loyaltyPoints: 0, currentSlab: 'Silver', slabSNo: 1 }),
    ]);
    expect(best.loyaltyProgramDetails).toEqual([
      expect.objectContaining({
        currentSlab: 'Platinum',
        nextSlab: '',
        nextSlabSerialNumber: -1,
        upgradeStrategies: [],
      }),
    ]);
  });

  it('forgets tiers and points on reset', async () => {
    const standIn = await startStandIn();
    const customerId = standIn.addMember({ mobile: '66812345678' });
    standIn.loyalty.setPoints(customerId, 10);

    standIn.reset();

    expect(standIn.state().loyalty).toEqual({});
  });
});
