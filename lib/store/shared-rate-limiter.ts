import { createHash } from 'node:crypto';

import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import { slotPlan, type RateLimiter, type SlotPlan } from '../capillary/rate-limiter';
import type { CapillaryOrgConfig } from '../config/capillary-orgs';
import { sleep, type Sleep } from '../retry/sleep';

export interface SharedRateLimiterOptions {
  client: DynamoDBClient;
  tableName: string;
  /** one bucket per Capillary API key: see rateBucketKey */
  bucketKey: string;
  plan: SlotPlan;
  now?: () => number;
  sleep?: Sleep;
}

/** How long a freshly booked slot stays usable at the least: the take that booked it runs a moment later. */
const BOOKING_GRACE_MS = 100;

/** Attempts at one booking before giving up for this take (only concurrent bookings make one fail). */
const MAX_BOOKING_ATTEMPTS = 5;

/**
 * The bucket item of an API key, next to the user records (its key cannot be a LINE destination + user id).
 * The key is a hash: neither the base URL nor the client key needs to be readable in the table.
 */
export function rateBucketKey(baseUrl: string, apiKeyId: string): string {
  return `${RATE_BUCKET_PREFIX}${createHash('sha256').update(`${baseUrl}|${apiKeyId}`).digest('hex').slice(0, 24)}`;
}

const RATE_BUCKET_PREFIX = 'rate-limit#capillary#';
export const isRateBucketKey = (pk: string | undefined): boolean => pk?.startsWith(RATE_BUCKET_PREFIX) === true;

/** The shared budget of a Capillary org's API key, kept in the user table. */
export function orgRateLimiter(
  client: DynamoDBClient,
  tableName: string,
  org: Pick<CapillaryOrgConfig, 'baseUrl' | 'auth' | 'rateLimitPerMinute'>,
): SharedRateLimiter {
  return new SharedRateLimiter({
    client,
    tableName,
    bucketKey: rateBucketKey(org.baseUrl, org.auth.id),
    plan: slotPlan(org.rateLimitPerMinute),
  });
}

/**
 * The API key's budget as one DynamoDB item shared by every instance: `nextSlotAt`, the first request
 * slot nobody has booked (a token bucket without burst, the "generic cell rate" form). An instance books
 * a block of consecutive slots in one conditional UpdateItem, keeps them, and hands one to each request
 * at its time: slots are spaced by the plan's interval whoever holds them, so the fleet never exceeds
 * the limit, and one instance alone may book all of it. A booking costs one write for half a block
 * or, while more requests wait, up to `plan.maxBlock`; a slot left unused lapses.
 */
export class SharedRateLimiter implements RateLimiter {
  readonly #options: SharedRateLimiterOptions;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  /** booked, unused slots, ascending, each with the moment it lapses */
  #slots: { at: number; until: number }[] = [];
  /** the bucket's nextSlotAt as last seen (0 = not yet) */
  #seenNextSlotAt = 0;
  /** tokens wanted by takes that have no slots yet: the next booking's size */
  #waiting = 0;
  #booking: Promise<number> | undefined;

  constructor(options: SharedRateLimiterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  async take(tokens: number, deadlineAt: number): Promise<boolean> {
    this.#waiting += tokens;
    let waiting = true;
    const served = () => {
      if (waiting) this.#waiting -= tokens;
      waiting = false;
    };
    // Takes that arrive together (the records of one batch) then count in the same booking.
    await Promise.resolve();
    try {
      for (;;) {
        const now = this.#now();
        this.#slots = this.#slots.filter((slot) => slot.until >= now);
        if (this.#slots.length >= tokens) {
          const last = (this.#slots[tokens - 1] as { at: number }).at;
          if (last > deadlineAt) return false;
          this.#slots.splice(0, tokens);
          served();
          if (last > now) await this.#sleep(last - now);
          return true;
        }
        if (this.#booking) {
          // Another take's booking: its failure is that take's to report; this one looks again.
          await this.#booking.catch(() => 0);
          continue;
        }
        // At least half a block, more while more takes wait: the records of a batch call one after another, so a
        // block serves the next calls too (few writes per call) without holding much budget back from others.
        const { maxBlock } = this.#options.plan;
        const wanted =
          Math.max(tokens, Math.min(maxBlock, Math.max(this.#waiting, Math.ceil(maxBlock / 2)))) - this.#slots.length;
        this.#booking = this.#book(tokens - this.#slots.length, wanted, deadlineAt).finally(() => {
          this.#booking = undefined;
        });
        if ((await this.#booking) === 0) return false;
      }
    } finally {
      served();
    }
  }

  /** Books between `needed` and `wanted` slots that all start by deadlineAt; answers how many (0 = none fit). */
  async #book(needed: number, wanted: number, deadlineAt: number): Promise<number> {
    const { intervalMs, maxLagMs } = this.#options.plan;
    for (let attempt = 0; attempt < MAX_BOOKING_ATTEMPTS; attempt++) {
      // Slots up to maxLagMs old may still be used (see take), so an idle bucket books from half that ago:
      // the moments nobody called (a batch starting, records between calls) are not all lost to the budget,
      // and the slots stay usable for as long again.
      const earliest = this.#now() - maxLagMs / 2;
      const start = Math.max(this.#seenNextSlotAt, earliest);
      const count = Math.min(wanted, Math.floor((deadlineAt - start) / intervalMs) + 1);
      if (count < needed) return 0;
      const first =
        start > earliest
          ? await this.#bookAfterOthers(earliest, count, deadlineAt)
          : await this.#bookIdle(earliest, count);
      if (first !== undefined) {
        // A slot may be used maxLagMs after its time; one that was already past when the write came back keeps
        // half that (at least BOOKING_GRACE_MS) from then, so no booking lapses before its take can use it.
        const bookedAt = this.#now();
        for (let i = 0; i < count; i++) {
          const at = first + i * intervalMs;
          this.#slots.push({ at, until: Math.max(at + maxLagMs, bookedAt + Math.max(maxLagMs / 2, BOOKING_GRACE_MS)) });
        }
        this.#slots.sort((a, b) => a.at - b.at);
        this.#seenNextSlotAt = first + count * intervalMs;
        return count;
      }
      this.#seenNextSlotAt = await this.#readNextSlotAt();
    }
    return 0;
  }

  /** The bucket is idle (nobody holds a slot from `earliest` on): book from then. Undefined when it was not. */
  async #bookIdle(earliest: number, count: number): Promise<number | undefined> {
    const booked = await this.#update(
      'SET nextSlotAt = :end',
      'attribute_not_exists(nextSlotAt) OR nextSlotAt <= :earliest',
      {
        ':earliest': n(earliest),
        ':end': n(earliest + count * this.#options.plan.intervalMs),
      },
    );
    return booked === undefined ? undefined : earliest;
  }

  /** Slots are booked past `earliest`: take the next `count` after them, if they all start by the deadline. */
  async #bookAfterOthers(earliest: number, count: number, deadlineAt: number): Promise<number | undefined> {
    const span = count * this.#options.plan.intervalMs;
    const end = await this.#update(
      'SET nextSlotAt = nextSlotAt + :span',
      'nextSlotAt > :earliest AND nextSlotAt <= :latestStart',
      {
        ':earliest': n(earliest),
        ':span': n(span),
        // DynamoDB numbers are finite: no deadline is the largest one.
        ':latestStart': n(Math.min(Number.MAX_SAFE_INTEGER, deadlineAt - (count - 1) * this.#options.plan.intervalMs)),
      },
    );
    return end === undefined ? undefined : end - span;
  }

  /** One conditional write; the new nextSlotAt, or undefined when the condition did not hold. */
  async #update(
    update: string,
    condition: string,
    values: Record<string, AttributeValue>,
  ): Promise<number | undefined> {
    const { client, tableName, bucketKey } = this.#options;
    try {
      const result = await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: bucketKey } },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(result.Attributes?.nextSlotAt?.N);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async #readNextSlotAt(): Promise<number> {
    const { client, tableName, bucketKey } = this.#options;
    const result = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: bucketKey } }, ConsistentRead: true }),
    );
    return Number(result.Item?.nextSlotAt?.N ?? 0);
  }
}

const n = (value: number): AttributeValue => ({ N: String(value) });
