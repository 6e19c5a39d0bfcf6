import { buildBackfillDeps } from '../../../lib/backfill/backfill-deps';
import type { BackfillConfig } from '../../../lib/config/backfill-config';
import { ById } from '../../../lib/config/channels';
import { ChannelNotConfiguredError, ConfigError } from '../../../lib/config/errors';
import type { WorkerChannel } from '../../../lib/config/worker-config';
import { followersPerHour } from '../../../lib/domain/backfill-rules';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';

let rig: BackfillRig;
beforeAll(async () => {
  rig = await startBackfillRig({ lineStandIn: { followerIds: [] }, backfill: { batchSize: 20, rateSharePercent: 50 } });
});
afterAll(() => rig.close());

/** The rig's configuration with its one channel changed. */
const channelWith = (overrides: Partial<WorkerChannel>): BackfillConfig => {
  const channel = { ...rig.config.worker.channels.get('default')!, ...overrides };
  return { ...rig.config, worker: { ...rig.config.worker, channels: new ById([channel]) } };
};

describe('buildBackfillDeps', () => {
  it("asks LINE for the bot's user id when the channel does not configure it, and paces at the job's share", async () => {
    // Act
    const deps = await buildBackfillDeps(rig.config, rig, 'default');
    // Assess
    const org = rig.config.worker.capillaryOrgs.get('default')!;
    expect(deps.destination).toBe(rig.line.botUserId);
    expect(deps.settings).toEqual({
      batchSize: 20,
      recordMaxAttempts: 3,
      followersPerHour: followersPerHour(org.rateLimitPerMinute, 0.5, 20, 'record'),
    });
    expect(deps.owner).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("uses the channel's configured destination without asking LINE", async () => {
    const before = rig.line.calls().length;
    // Act
    const deps = await buildBackfillDeps(channelWith({ destination: 'Uconfigured' }), rig, 'default');
    // Assess
    expect(deps.destination).toBe('Uconfigured');
    expect(rig.line.calls().length).toBe(before);
  });

  it('refuses a channel the configuration does not name', async () => {
    await expect(buildBackfillDeps(rig.config, rig, 'elsewhere')).rejects.toBeInstanceOf(ChannelNotConfiguredError);
  });

  it('refuses a channel whose Capillary org is not configured', async () => {
    const config = channelWith({ capillaryOrg: 'missing-org' });
    await expect(buildBackfillDeps(config, rig, 'default')).rejects.toThrow(ConfigError);
    await expect(buildBackfillDeps(config, rig, 'default')).rejects.toThrow(/capillaryOrg "missing-org"/);
  });
});
