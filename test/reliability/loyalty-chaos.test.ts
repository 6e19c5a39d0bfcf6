/**
 * Loyalty chaos, reduced size: tier notifications interleaved (late, repeated) with follows, blocks, links, unlinks
 * and "my points" through the real worker and notifications function. LOYALTY_CHAOS_SEED replays a run.
 */
import fc from 'fast-check';

import { loyaltyScenarioArbitrary, playLoyaltyScenario } from '../../local/chaos/loyalty-scenario';

const seed = Number(process.env.LOYALTY_CHAOS_SEED ?? Date.now() % 2 ** 31);

describe(`loyalty chaos (seed ${seed})`, () => {
  it('leaves every linked friend with their current tier menu, everyone else without one, no answer twice', async () => {
    const [scenario] = fc.sample(loyaltyScenarioArbitrary(8, 200), { seed, numRuns: 1 });
    const { problems, counts } = await playLoyaltyScenario(scenario!);
    process.stdout.write(`loyalty chaos seed ${seed}: ${JSON.stringify(counts)}\n`);
    expect(problems).toEqual([]);
    expect(counts.tierEvents).toBeGreaterThan(0);
    expect(counts.linkedFriends).toBeGreaterThan(0);
  }, 300_000);

  // This seed once left a per-user menu on a user unlinked while blocked (LINE refused the removal), kept after they
  // followed again (docs/loyalty.md#stray-menu-after-a-blocked-unlink).
  it('replays seed 1338292981 without a stray menu', async () => {
    const [scenario] = fc.sample(loyaltyScenarioArbitrary(8, 200), { seed: 1338292981, numRuns: 1 });
    expect((await playLoyaltyScenario(scenario!)).problems).toEqual([]);
  }, 300_000);
});
