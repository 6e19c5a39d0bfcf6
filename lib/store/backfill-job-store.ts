/**
 * The backfill job's state: one item per channel in the users table (key `job#backfill#<channel>`, which
 * never collides with a user key `<destination>#<userId>`). It holds the LINE cursor and the counters, so
 * a job resumes where it stopped after a crash or a timeout. Every write is a single-item conditional
 * write: only the invocation holding the lease moves the job, and a cancel wins over any later write.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import { ZERO_COUNTERS, type BackfillCounters } from '../domain/backfill-rules';
import { BackfillAlreadyRunningError } from './errors';

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

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

export const backfillJobKey = (channel: string): string => `job#backfill#${channel}`;

function toJob(item: Record<string, AttributeValue>): BackfillJob {
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

export class BackfillJobStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async read(channel: string): Promise<BackfillJob | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: s(backfillJobKey(channel)) }, ConsistentRead: true }),
    );
    return Item ? toJob(Item) : undefined;
  }

  /** A new job replaces a finished one; refused while one is running. */
  async start(channel: string, jobId: string, now: number, estimatedFollowers?: number): Promise<BackfillJob> {
    const item: Record<string, AttributeValue> = {
      pk: s(backfillJobKey(channel)),
      channel: s(channel),
      jobId: s(jobId),
      jobStatus: s('running'),
      counters: s(JSON.stringify(ZERO_COUNTERS)),
      pageCounters: s(JSON.stringify(ZERO_COUNTERS)),
      restarts: n(0),
      startedAt: n(now),
      updatedAt: n(now),
      ...(estimatedFollowers === undefined ? {} : { estimatedFollowers: n(estimatedFollowers) }),
    };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR jobStatus <> :running',
          ExpressionAttributeValues: { ':running': s('running') },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.read(channel);
      throw new BackfillAlreadyRunningError(channel, current?.jobId ?? 'unknown');
    }
    return toJob(item);
  }

  /**
   * Takes the job for one invocation until `until` (epoch ms): refused (undefined) when the job is not this
   * running job, or another invocation holds an unexpired lease (a duplicate tick).
   */
  async acquire(
    channel: string,
    jobId: string,
    owner: string,
    until: number,
    now: number,
  ): Promise<BackfillJob | undefined> {
    return this.#update(channel, {
      set: 'leaseOwner = :owner, leaseExpiresAt = :until, updatedAt = :now',
      condition:
        'jobId = :jobId AND jobStatus = :running AND ' +
        '(attribute_not_exists(leaseExpiresAt) OR leaseExpiresAt < :now OR leaseOwner = :owner)',
      values: { ':owner': s(owner), ':until': n(until), ':now': n(now), ':jobId': s(jobId), ':running': s('running') },
    });
  }

  /** Moves the job on; undefined when the lease was lost or the job was cancelled meanwhile: stop. */
  async checkpoint(
    channel: string,
    jobId: string,
    owner: string,
    patch: CheckpointPatch,
    now: number,
  ): Promise<BackfillJob | undefined> {
    const sets = ['updatedAt = :now'];
    const removes: string[] = [];
    const values: Record<string, AttributeValue> = {
      ':now': n(now),
      ':owner': s(owner),
      ':jobId': s(jobId),
      ':running': s('running'),
    };
    const put = (name: string, value: AttributeValue) => {
      sets.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    };
    if ('cursor' in patch) {
      if (patch.cursor === undefined) removes.push('lineCursor', 'cursorIssuedAt');
      else {
        put('lineCursor', s(patch.cursor));
        put('cursorIssuedAt', n(patch.cursorIssuedAt ?? now));
      }
    }
    if (patch.counters) put('counters', s(JSON.stringify(patch.counters)));
    if (patch.pageCounters) put('pageCounters', s(JSON.stringify(patch.pageCounters)));
    if (patch.restarts !== undefined) put('restarts', n(patch.restarts));
    if (patch.estimatedFollowers !== undefined) put('estimatedFollowers', n(patch.estimatedFollowers));
    if (patch.followersPerHour !== undefined) put('followersPerHour', n(patch.followersPerHour));
    if (patch.message !== undefined) put('jobMessage', s(patch.message));
    if (patch.status !== undefined) {
      put('jobStatus', s(patch.status));
      put('finishedAt', n(now));
      removes.push('leaseOwner', 'leaseExpiresAt');
    }
    return this.#update(channel, {
      set: `${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      condition: 'jobId = :jobId AND jobStatus = :running AND leaseOwner = :owner',
      values,
    });
  }

  /** Lets a later tick take the job at once (the invocation is ending cleanly). */
  async release(channel: string, jobId: string, owner: string): Promise<void> {
    await this.#update(channel, {
      set: 'leaseExpiresAt = :zero',
      condition: 'jobId = :jobId AND leaseOwner = :owner',
      values: { ':zero': n(0), ':jobId': s(jobId), ':owner': s(owner) },
    });
  }

  /** Marks the running job cancelled; its invocation stops at its next write. Undefined when none is running. */
  async cancel(channel: string, now: number): Promise<BackfillJob | undefined> {
    return this.#update(channel, {
      set: 'jobStatus = :cancelled, finishedAt = :now, updatedAt = :now, jobMessage = :message',
      condition: 'jobStatus = :running',
      values: {
        ':cancelled': s('cancelled'),
        ':running': s('running'),
        ':now': n(now),
        ':message': s('cancelled by the operator'),
      },
    });
  }

  async #update(
    channel: string,
    update: { set: string; condition: string; values: Record<string, AttributeValue> },
  ): Promise<BackfillJob | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: s(backfillJobKey(channel)) },
          UpdateExpression: `SET ${update.set}`,
          ConditionExpression: update.condition,
          ExpressionAttributeValues: update.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toJob(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
