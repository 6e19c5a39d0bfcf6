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

import { ZERO_COUNTERS } from '../domain/backfill-rules';
import { backfillJobKey, toJob, type BackfillJob, type CheckpointPatch } from './backfill-job';
import { BackfillAlreadyRunningError } from './errors';

export { backfillJobKey, type BackfillJob, type BackfillStatus, type CheckpointPatch } from './backfill-job';

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

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
