import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

import { slotPlan } from '../../../lib/capillary/rate-limiter';
import { rateBucketKey, SharedRateLimiter } from '../../../lib/store/shared-rate-limiter';
import { countCommands } from '../../../local/rigs/aws-kit';
import { createUsersTable } from '../../../local/rigs/worker-rig';

/**
 * Virtual time: the clock stands still and a take that must wait records the moment it would wake, so
 * nothing here depends on the machine's speed.
 */
describe('SharedRateLimiter against dynalite', () => {
  const dynamo = new DynamoDBClient({});
  const writes = countCommands(dynamo);
  let tableName: string;
  let now: number;

  beforeAll(async () => {
    tableName = await createUsersTable(dynamo);
  });
  afterAll(() => dynamo.destroy());
  beforeEach(() => {
    now = 1_700_000_000_000;
    writes.clear();
  });

  /** A limiter as one worker instance holds it, with the moment each granted take may call. */
  const instance = (limitPerMinute: number, bucketKey: string) => {
    let wakeAt: number | undefined;
    const sleeps: number[] = [];
    const limiter = new SharedRateLimiter({
      client: dynamo,
      tableName,
      bucketKey,
      plan: slotPlan(limitPerMinute),
      now: () => now,
      sleep: async (ms) => {
        wakeAt = now + ms;
        sleeps.push(ms);
      },
    });
    const callTimes: number[] = [];
    const take = async (tokens: number, deadlineAt = Number.POSITIVE_INFINITY) => {
      wakeAt = undefined;
      const granted = await limiter.take(tokens, deadlineAt);
      if (granted) callTimes.push(wakeAt ?? now);
      return granted;
    };
    return { take, callTimes, sleeps, limiter };
  };
  /** At 60/min less 3% headroom: one slot every 1,031 ms, a block of 4, and no slot may be used late (no lag). */
  const slotAt60 = (time: number) => Math.round((time - now) / (60_000 / (60 * 0.97)));
  const updates = () => writes.get('UpdateItemCommand') ?? 0;

  it('spaces the calls of two instances sharing a key as one budget', async () => {
    // Prepare: a booking takes at least half a block (2 slots at 60/min)
    const key = rateBucketKey('https://capillary.example', 'key-a');
    const [a, b] = [instance(60, key), instance(60, key)];
    // Act: the two instances take in turn
    for (const { take } of [a, b, a, b, a, b]) expect(await take(1)).toBe(true);
    // Assess: one grid of slots for both; one write per booking, plus b's first guess that the bucket was
    // idle (a rejected conditional write, billed all the same)
    expect(a.callTimes.map(slotAt60)).toEqual([0, 1, 4]);
    expect(b.callTimes.map(slotAt60)).toEqual([2, 3, 6]);
    expect(updates()).toBe(5);
  });

  it('keeps separate budgets for separate API keys', async () => {
    const [a, b] = [
      instance(600, rateBucketKey('https://capillary.example', 'key-b')),
      instance(600, rateBucketKey('https://capillary.example', 'key-c')),
    ];
    expect(await a.take(1, now)).toBe(true);
    expect(await b.take(1, now)).toBe(true);
  });

  it('books the slots of concurrent takes in one write', async () => {
    const { limiter } = instance(600, rateBucketKey('https://capillary.example', 'key-d'));
    const granted = await Promise.all(Array.from({ length: 10 }, () => limiter.take(1, Number.POSITIVE_INFINITY)));
    expect(granted).toEqual(Array(10).fill(true));
    expect(updates()).toBe(1);
  });

  it('takes nothing when the next slot comes after the deadline', async () => {
    // Prepare: instance a books the next two slots (half a block of 4)
    const key = rateBucketKey('https://capillary.example', 'key-e');
    const [a, b] = [instance(60, key), instance(60, key)];
    expect(await a.take(1)).toBe(true);
    // Act
    const refused = await b.take(1, now + 500);
    // Assess: refused, and the slot it would have had is still the next one after a's two
    expect(refused).toBe(false);
    expect(await b.take(1)).toBe(true);
    expect(b.callTimes.map((time) => Math.round(time - now))).toEqual([2062]);
  });

  it('takes a cost of several tokens as that many slots', async () => {
    const a = instance(60, rateBucketKey('https://capillary.example', 'key-f'));
    expect(await a.take(3)).toBe(true);
    expect(await a.take(1)).toBe(true);
    // A call of cost 3 goes at the last of its three slots; the next call gets the fourth.
    expect(a.callTimes.map(slotAt60)).toEqual([2, 3]);
  });

  it('lets an idle bucket book from half as long ago as a slot may lag, so a pause costs little budget', async () => {
    // Prepare: 600/min = one slot every 103.1 ms; 18 slots of headroom, 16 of which may lag (1,649 ms): 8 slots back
    const key = rateBucketKey('https://capillary.example', 'key-g');
    const a = instance(600, key);
    // Act: ten calls at once find the bucket idle
    const granted = await Promise.all(Array.from({ length: 10 }, () => a.limiter.take(1, Number.POSITIVE_INFINITY)));
    // Assess: nine go at once (slots -8 to 0), only the tenth waits, for slot 1; the bucket's next free slot is 2
    const interval = 60_000 / (600 * 0.97);
    expect(granted).toEqual(Array(10).fill(true));
    expect(a.sleeps.map((ms) => Math.round(ms / interval))).toEqual([1]);
    const item = await dynamo.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key } } }));
    expect(Number(item.Item?.nextSlotAt?.N) - now).toBeCloseTo(2 * interval, 2);
  });

  it('uses a booking made while the clock moved on, even where no slot may lag (under 67/min)', async () => {
    // Prepare: every reading of the clock is 40 ms later, as on a slow machine
    const limiter = new SharedRateLimiter({
      client: dynamo,
      tableName,
      bucketKey: rateBucketKey('https://capillary.example', 'key-i'),
      plan: slotPlan(60),
      now: () => (now += 40),
      sleep: async () => {},
    });
    // Act + Assess: granted, with one booking (a lapsed booking would book again and again)
    expect(await limiter.take(1, Number.POSITIVE_INFINITY)).toBe(true);
    expect(updates()).toBe(1);
  });

  it('gives up booked slots that lapsed unused', async () => {
    // Prepare: a booking of two slots; the second take has no time for its slot, which stays unused; a minute passes
    const a = instance(60, rateBucketKey('https://capillary.example', 'key-h'));
    expect(await Promise.all([a.take(1), a.take(1, now)])).toEqual([true, false]);
    const first = now;
    now += 60_000;
    // Act
    expect(await a.take(1)).toBe(true);
    // Assess: the call books anew at the present instead of using the stale slot
    expect(a.callTimes).toEqual([first, now]);
    expect(updates()).toBe(2);
  });
});
