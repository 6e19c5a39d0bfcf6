import { driftPercent, runInsightCheck } from '../../../lib/insight-check/insight-check';
import { LineFollowersClient } from '../../../lib/line/follower-pages';
import { startBackfillRig, type BackfillRig } from '../../../local/rigs/backfill-rig';
import { seededUserIds } from '../../../local/standins/line-standin';

const started: BackfillRig[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((rig) => rig.close()));
});

describe('daily insight check', () => {
  it("publishes the gap between LINE's follower count and the table's opted-in count as a percentage", async () => {
    // Prepare: 10 followers, 8 backfilled, 2 followed after
    const followers = seededUserIds(10, 'insight');
    const rig = await startBackfillRig({ lineStandIn: { followerIds: followers.slice(0, 8) } });
    started.push(rig);
    await rig.runToEnd(await rig.start());
    rig.line.addFollowers(followers.slice(8));
    const lineFollowers = new LineFollowersClient({
      channelAccessToken: 'local-channel-access-token',
      baseUrl: rig.line.url,
      timeoutMs: 1000,
      maxAttempts: 1,
    });
    // Act
    const result = await runInsightCheck({
      channel: 'default',
      followers: lineFollowers,
      dynamo: rig.dynamo,
      tableName: rig.config.worker.tableName,
      destination: rig.line.botUserId,
    });
    // Assess
    expect(result).toMatchObject({ status: 'measured', lineFollowers: 10, tableOptedIn: 8, driftPercent: 20 });
  });

  it.each([
    [1000, 1000, 0],
    [1000, 950, 5],
    [1000, 1100, 10],
    [0, 3, 100],
  ])('drift of LINE %i vs table %i is %f %%', (line, table, percent) => {
    expect(driftPercent(line, table)).toBe(percent);
  });
});
