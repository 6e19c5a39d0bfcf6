import { CapillaryApiError, CapillaryUnavailableError } from '../../../lib/capillary/errors';
import { CapillaryHttpClient, type CapillaryCallRecord } from '../../../lib/capillary/http-client';
import { readMemberLoyalty } from '../../../lib/capillary/loyalty-reader';
import { TAKEN_BY_CALLER } from '../../../lib/capillary/rate-limiter';
import { RIG_CAPILLARY_AUTH } from '../../../local/rigs/worker-rig';
import { startCapillaryStandIn, type CapillaryStandIn } from '../../../local/standins/capillary-standin';

const call = { deadlineAt: Number.POSITIVE_INFINITY };
/** 2026-01-15 */
const NOW = Date.UTC(2026, 0, 15);

describe('readMemberLoyalty against the Capillary stand-in', () => {
  let standIn: CapillaryStandIn;
  let calls: CapillaryCallRecord[];
  let taken: number;
  const http = (maxAttempts = 1) =>
    new CapillaryHttpClient({
      baseUrl: standIn.url,
      auth: RIG_CAPILLARY_AUTH,
      timeoutMs: 5000,
      maxAttempts,
      limiter: {
        take: async (cost: number) => {
          taken += cost;
          return true;
        },
      },
      onCall: (record) => calls.push(record),
      sleep: async () => {},
    });

  beforeEach(async () => {
    standIn = await startCapillaryStandIn();
    calls = [];
    taken = 0;
  });
  afterEach(() => standIn.close());

  it('reads points, tier, the next expiring points and the gap to the next tier in one call from the org’s budget', async () => {
    const customerId = standIn.addMember({ mobile: '66812345678' });
    standIn.loyalty.setTier(customerId, 'Gold');
    standIn.loyalty.setPoints(customerId, 3200, [
      { points: 400, expiryDate: '2025-12-31' },
      { points: 150, expiryDate: '2026-03-31' },
      { points: 250, expiryDate: '2026-03-31' },
      { points: 900, expiryDate: '2026-09-30' },
    ]);

    const reading = await readMemberLoyalty(http(), customerId, { call, now: NOW });

    expect(reading).toEqual({
      outcome: 'member',
      standing: {
        points: 3200,
        tierName: 'Gold',
        tierNumber: 2,
        programId: 978,
        expiringPoints: 400,
        expiryDate: '2026-03-31',
        gapToNextTier: 1800,
      },
    });
    expect(calls.map((c) => c.operation)).toEqual(['read-loyalty']);
    expect(taken).toBe(1);
    expect(
      standIn
        .calls()
        .filter((c) => c.path.startsWith('/v2/'))
        .map((c) => c.path),
    ).toEqual([`/v2/customers/${customerId}?embed=points,mlp,expirySchedules,gapDetails`]);
  });

  it('leaves out what a member in the top tier with nothing expiring does not have', async () => {
    const customerId = standIn.addMember({ mobile: '66812345679' });
    standIn.loyalty.setTier(customerId, 3);
    standIn.loyalty.setPoints(customerId, 7000);

    expect(await readMemberLoyalty(http(), customerId, { call, now: NOW })).toEqual({
      outcome: 'member',
      standing: { points: 7000, tierName: 'Platinum', tierNumber: 3, programId: 978 },
    });
  });

  it('answers not-found for a customer Capillary does not have, no-program for another program', async () => {
    const customerId = standIn.addMember({ mobile: '66812345670' });

    expect(await readMemberLoyalty(http(), customerId + 999, { call })).toEqual({ outcome: 'not-found' });
    expect(await readMemberLoyalty(http(), customerId, { call, programId: 1223 })).toEqual({ outcome: 'no-program' });
    expect(await readMemberLoyalty(http(), customerId, { call, programId: 978 })).toMatchObject({
      outcome: 'member',
      standing: { points: 0, tierName: 'Silver', tierNumber: 1 },
    });
  });

  it('throws CapillaryUnavailableError when Capillary stays throttled, after the client’s retries', async () => {
    const customerId = standIn.addMember({ mobile: '66812345671' });
    standIn.injectFault({ status: 429, times: 2, pathPrefix: '/v2/customers/' });

    await expect(readMemberLoyalty(http(2), customerId, { call })).rejects.toBeInstanceOf(CapillaryUnavailableError);
    expect(taken).toBe(2);
  });
});

describe('readMemberLoyalty on answers the stand-in does not give (Unconfirmed shapes)', () => {
  const BASIC = { scheme: 'basic' as const, id: 'till', secret: 'pw', oauthHeaderName: 'X-CAP-API-OAUTH-TOKEN' };
  const client = () =>
    new CapillaryHttpClient({
      baseUrl: 'http://capillary.invalid',
      auth: BASIC,
      timeoutMs: 1000,
      maxAttempts: 1,
      limiter: TAKEN_BY_CALLER,
    });
  const answering = (body: unknown, status = 200) =>
    jest.spyOn(globalThis, 'fetch').mockResolvedValue(Response.json(body, { status }));

  afterEach(() => jest.restoreAllMocks());

  it('chooses the configured program of several, reads numbers written as strings and a top-level gap list', async () => {
    answering({
      loyaltyProgramDetails: [
        { programId: 1219, loyaltyPoints: 1000, currentSlab: 'Silver', slabSNo: 2, nextSlabSerialNumber: 3 },
        { programId: '1223', loyaltyPoints: '12345.0', currentSlab: 'Tier1', slabSNo: '1', nextSlabSerialNumber: 2 },
      ],
      expirySchedules: [
        { points: 400, expiryDate: '2026-02-01', programId: 1219 },
        { points: 50, expiryDate: '2026-02-10T00:00:00Z', programId: 1223 },
      ],
      gapToUpgrade: [
        { programId: 1219, customerUpgradeEntityValues: { gapToUpgrade: 5 } },
        { upgradeBasedOn: 'CURRENT_POINTS', customerUpgradeEntityValues: { currentValue: 0, gapToUpgrade: 2000.0 } },
      ],
      warnings: [],
    });

    expect(await readMemberLoyalty(client(), 1, { call, programId: 1223, now: NOW })).toEqual({
      outcome: 'member',
      standing: {
        points: 12345,
        tierName: 'Tier1',
        tierNumber: 1,
        programId: 1223,
        expiringPoints: 50,
        expiryDate: '2026-02-10',
        gapToNextTier: 2000,
      },
    });
  });

  it('falls back to pointsSummary (embed=points) and leaves out a blank tier and broken schedules', async () => {
    answering({
      pointsSummary: { loyaltyPoints: 80, currentSlab: ' ', slabSNo: 1, nextSlabSerialNumber: -1 },
      expirySchedules: [{ points: 'many', expiryDate: '2026-05-01' }, { points: 10 }, null],
      gapToUpgrade: [{ customerUpgradeEntityValues: { gapToUpgrade: 100 } }],
    });

    expect(await readMemberLoyalty(client(), 1, { call, now: NOW })).toEqual({
      outcome: 'member',
      standing: { points: 80, tierNumber: 1 },
    });
  });

  it('answers no-program without loyalty fields, not-found for a merged-away customer, and throws other failures', async () => {
    answering({ id: 1, profiles: [], warnings: [] });
    expect(await readMemberLoyalty(client(), 1, { call })).toEqual({ outcome: 'no-program' });

    jest.restoreAllMocks();
    answering({ errors: [{ status: false, code: 8069, message: 'The customer is merged into another account' }] }, 400);
    expect(await readMemberLoyalty(client(), 1, { call })).toEqual({ outcome: 'not-found' });

    jest.restoreAllMocks();
    answering({ errors: [{ status: false, code: 500, message: 'Internal' }] }, 400);
    await expect(readMemberLoyalty(client(), 1, { call })).rejects.toBeInstanceOf(CapillaryApiError);
  });
});
