/**
 * The backfill job's item as the code sees it (BackfillJob) and as DynamoDB holds it (toJob): one item per
 * channel in the users table, under `job#backfill#<channel>`.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

import { ZERO_COUNTERS, type BackfillCounters } from '../domain/backfill-rules';

export type BackfillStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface BackfillJob {
  channel: string;
  jobId: string;
  status: BackfillStatus;
  /** the `next` token of the last page done; undefined = start at the first page */
  cursor?: string;
  /** when LINE issued `cursor` (it expires 24 h later) */
  cursorIssuedAt?: number;
  /** committed with the cursor: every page before it */
  counters: BackfillCounters;
  /** the page in progress (replaced, not added, when a page is redone after a crash) */
  pageCounters: BackfillCounters;
  /** how many times the listing started again from page one (expired or rejected cursor) */
  restarts: number;
  /** LINE's insight count when the job started: the basis of the ETA */
  estimatedFollowers?: number;
  /** followers an hour at the job's configured share of the Capillary budget */
  followersPerHour?: number;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** why the job failed or stopped */
  message?: string;
}

export interface CheckpointPatch {
  cursor?: string;
  cursorIssuedAt?: number;
  counters?: BackfillCounters;
  pageCounters?: BackfillCounters;
  restarts?: number;
  estimatedFollowers?: number;
  followersPerHour?: number;
  status?: Exclude<BackfillStatus, 'running'>;
  message?: string;
}

export const backfillJobKey = (channel: string): string => `job#backfill#${channel}`;

export function toJob(item: Record<string, AttributeValue>): BackfillJob {
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const counters = (name: string): BackfillCounters => ({
    ...ZERO_COUNTERS,
    ...(item[name]?.S ? (JSON.parse(item[name].S) as BackfillCounters) : {}),
  });
  return {
    channel: item.channel?.S ?? '',
    jobId: item.jobId?.S ?? '',
    status: item.jobStatus?.S as BackfillStatus,
    ...(item.lineCursor?.S === undefined ? {} : { cursor: item.lineCursor.S }),
    ...(num('cursorIssuedAt') === undefined ? {} : { cursorIssuedAt: num('cursorIssuedAt') }),
    counters: counters('counters'),
    pageCounters: counters('pageCounters'),
    restarts: num('restarts') ?? 0,
    ...(num('estimatedFollowers') === undefined ? {} : { estimatedFollowers: num('estimatedFollowers') }),
    ...(num('followersPerHour') === undefined ? {} : { followersPerHour: num('followersPerHour') }),
    startedAt: num('startedAt') ?? 0,
    updatedAt: num('updatedAt') ?? 0,
    ...(num('finishedAt') === undefined ? {} : { finishedAt: num('finishedAt') }),
    ...(item.jobMessage?.S === undefined ? {} : { message: item.jobMessage.S }),
  };
}
