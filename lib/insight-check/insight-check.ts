/**
 * The daily drift signal for every account, Verified or not: LINE's follower count of yesterday
 * (`followers − blocks`, an upper bound of current friends, docs/line.md#follower-counts) against the
 * table's opted-in count. Published as metrics; FollowerCountDriftPercent has an alarm (serverless.yml).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { insightDate, type LineFollowersClient } from '../line/follower-pages';
import { logger, metrics, MetricUnit } from '../observability/telemetry';
import { countOptedIn } from '../store/user-census';

export type InsightCheckResult =
  | { status: 'measured'; date: string; lineFollowers: number; tableOptedIn: number; driftPercent: number }
  | { status: 'not-ready'; date: string; lineStatus: string };

/** |LINE − table| as a percentage of LINE's count (of the table's, when LINE counts none). */
export function driftPercent(lineFollowers: number, tableOptedIn: number): number {
  const base = Math.max(1, lineFollowers || tableOptedIn);
  return Math.round((Math.abs(lineFollowers - tableOptedIn) * 10_000) / base) / 100;
}

export interface InsightCheckDeps {
  channel: string;
  followers: LineFollowersClient;
  dynamo: DynamoDBClient;
  tableName: string;
  /** the channel's bot user id: its users' records start with it */
  destination: string;
}

export async function runInsightCheck(deps: InsightCheckDeps, now = Date.now()): Promise<InsightCheckResult> {
  const date = insightDate(now);
  const counts = await deps.followers.followerCounts(date);
  if (counts.status !== 'ready' || counts.followers === undefined) {
    logger.warn('LINE follower counts not ready; no drift figure today', {
      channel: deps.channel,
      date,
      lineStatus: counts.status,
    });
    return { status: 'not-ready', date, lineStatus: counts.status };
  }
  const lineFollowers = Math.max(0, counts.followers - (counts.blocks ?? 0));
  const tableOptedIn = await countOptedIn(deps.dynamo, deps.tableName, deps.destination);
  const result = {
    status: 'measured' as const,
    date,
    lineFollowers,
    tableOptedIn,
    driftPercent: driftPercent(lineFollowers, tableOptedIn),
  };
  // With the channel, and in the same record without it: the alarm watches the largest drift of any channel.
  const figures = metrics.singleMetric();
  figures.addDimensions({ channel: deps.channel });
  figures.addDimensions({});
  figures.addMetric('LineFollowers', MetricUnit.Count, lineFollowers);
  figures.addMetric('TableOptedIn', MetricUnit.Count, tableOptedIn);
  figures.addMetric('FollowerCountDrift', MetricUnit.Count, lineFollowers - tableOptedIn);
  figures.addMetric('FollowerCountDriftPercent', MetricUnit.Percent, result.driftPercent);
  logger.info('Follower counts compared', { channel: deps.channel, ...result });
  return result;
}
