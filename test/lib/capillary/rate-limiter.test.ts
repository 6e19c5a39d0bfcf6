import { slotPlan, TAKEN_BY_CALLER } from '../../../lib/capillary/rate-limiter';

describe('slotPlan', () => {
  it('spaces the slots 3% wider than the limit, so a minute holds 97% of it', () => {
    expect(slotPlan(1000).intervalMs).toBeCloseTo(60_000 / 970, 9);
    expect(60_000 / slotPlan(600).intervalMs).toBeCloseTo(582, 9);
  });

  it('lets slots lag by the headroom less two slots, and not at all under 67 a minute', () => {
    const plan = slotPlan(1000); // headroom 30 slots: 28 may lag
    expect(plan.maxLagMs).toBeCloseTo(28 * plan.intervalMs, 9);
    expect(slotPlan(100).maxLagMs).toBeCloseTo(slotPlan(100).intervalMs, 9); // headroom 3 slots: 1 may lag
    expect(slotPlan(66).maxLagMs).toBe(0);
  });

  it('books blocks of about 5 s of slots, at most 20 and at least 1', () => {
    expect(slotPlan(1000).maxBlock).toBe(20); // 80 slots in 5 s, capped
    expect(slotPlan(100).maxBlock).toBe(8); // a slot every 619 ms
    expect(slotPlan(10).maxBlock).toBe(1); // a slot every 6.2 s
  });
});

describe('TAKEN_BY_CALLER', () => {
  it('grants every take, whatever the cost or deadline: the caller took the tokens already', async () => {
    expect(await TAKEN_BY_CALLER.take(1_000_000, 0)).toBe(true);
  });
});
