import type { RateLimiter } from '../../../lib/capillary/rate-limiter';
import { allOf, SharePacer } from '../../../lib/capillary/share-pacer';

describe('SharePacer', () => {
  const START = Date.UTC(2026, 0, 1);
  let pauses: number[];
  /** A pause moves the faked clock on by its length, as a real one would. */
  const pause = async (ms: number) => {
    pauses.push(ms);
    jest.setSystemTime(Date.now() + ms);
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    pauses = [];
  });
  afterEach(() => jest.useRealTimers());

  it("spaces the job's calls by its share: 60 a minute is one a second, a cost of n takes n seconds", async () => {
    const pacer = new SharePacer(60, pause);

    expect(await pacer.take(1, Number.POSITIVE_INFINITY)).toBe(true);
    expect(await pacer.take(3, Number.POSITIVE_INFINITY)).toBe(true);
    expect(await pacer.take(1, Number.POSITIVE_INFINITY)).toBe(true);

    expect(pauses).toEqual([1000, 3000]);
  });

  it('does not wait after an idle spell longer than the spacing', async () => {
    const pacer = new SharePacer(60, pause);
    await pacer.take(1, Number.POSITIVE_INFINITY);
    jest.setSystemTime(START + 5000);

    await pacer.take(1, Number.POSITIVE_INFINITY);

    expect(pauses).toEqual([]);
  });

  it('refuses a take whose slot comes after the deadline, and books nothing for it', async () => {
    const pacer = new SharePacer(60, pause);
    await pacer.take(1, Number.POSITIVE_INFINITY);

    expect(await pacer.take(1, START + 999)).toBe(false);
    expect(pauses).toEqual([]);
    expect(await pacer.take(1, START + 1000)).toBe(true);
    expect(pauses).toEqual([1000]);
  });

  it('waits with the real sleep when none is given', async () => {
    const pacer = new SharePacer(60);
    await pacer.take(1, Number.POSITIVE_INFINITY);
    let granted = false;
    const take = pacer.take(1, Number.POSITIVE_INFINITY).then((answer) => {
      granted = answer;
    });

    await jest.advanceTimersByTimeAsync(999);
    expect(granted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await take;
    expect(granted).toBe(true);
  });
});

describe('allOf', () => {
  const limiter = (name: string, answer: boolean, asked: string[]): RateLimiter => ({
    take: async (tokens, deadlineAt) => {
      asked.push(`${name} ${tokens} ${deadlineAt}`);
      return answer;
    },
  });

  it('takes from each budget in order, with the same cost and deadline', async () => {
    const asked: string[] = [];
    expect(await allOf(limiter('share', true, asked), limiter('bucket', true, asked)).take(2, 99)).toBe(true);
    expect(asked).toEqual(['share 2 99', 'bucket 2 99']);
  });

  it('stops at the first budget that has nothing before the deadline', async () => {
    const asked: string[] = [];
    expect(await allOf(limiter('share', false, asked), limiter('bucket', true, asked)).take(1, 99)).toBe(false);
    expect(asked).toEqual(['share 1 99']);
  });
});
