/**
 * Loyalty chaos, reduced size: tier notifications interleaved (late, repeated) with follows, blocks, links, unlinks
 * and "my points", and with Capillary's merges and PII deletions of members, through the real worker and
 * notifications function. LOYALTY_CHAOS_SEED replays a run.
 */
import fc from 'fast-check';

import { loyaltyScenarioArbitrary, playLoyaltyScenario } from '../../local/chaos/loyalty-scenario';

const seed = Number(process.env.LOYALTY_CHAOS_SEED ?? Date.now() % 2 ** 31);

describe(`loyalty chaos (seed ${seed})`, () => {
  it('leaves every linked friend with their current tier menu, everyone else without one, no answer twice', async () => {
    // With Capillary merging and deleting members among the tier changes (their notices late and repeated too).
    const [scenario] = fc.sample(loyaltyScenarioArbitrary(8, 200, 2), { seed, numRuns: 1 });
    const { problems, counts } = await playLoyaltyScenario(scenario!);
    process.stdout.write(`loyalty chaos seed ${seed}: ${JSON.stringify(counts)}\n`);
    expect(problems).toEqual([]);
    expect(counts.tierEvents).toBeGreaterThan(0);
    expect(counts.identityEvents).toBeGreaterThan(0);
    expect(counts.linkedFriends).toBeGreaterThan(0);
  }, 300_000);

  // With merges and deletions, this seed left a member menu on a user whose member was deleted while they were blocked
  // (LINE refused the removal; the follow after it removed nothing), and would have read a merged member's tier
  // instead of its survivor's on a follow that found the member gone (docs/loyalty.md#menus-when-capillary-merges-or-deletes).
  it('replays seed 2 of the mix with merges and deletions without a stray menu', async () => {
    const [scenario] = fc.sample(loyaltyScenarioArbitrary(8, 200, 3), { seed: 2, numRuns: 1 });
    const { problems, counts } = await playLoyaltyScenario(scenario!);
    expect(counts.membersDeleted).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  }, 300_000);

  // This seed once left a per-user menu on a user unlinked while blocked (LINE refused the removal), kept after they
  // followed again (docs/loyalty.md#stray-menu-after-a-blocked-unlink).
  it('replays seed 1338292981 without a stray menu', async () => {
    const [scenario] = fc.sample(loyaltyScenarioArbitrary(8, 200), { seed: 1338292981, numRuns: 1 });
    expect((await playLoyaltyScenario(scenario!)).problems).toEqual([]);
  }, 300_000);
});
