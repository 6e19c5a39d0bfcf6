import { exponentialDelay, fullJitter, withRetries, type Attempt } from '../../../lib/retry/with-retries';

describe('withRetries', () => {
  let pauses: number[];
  const fakeSleep = async (ms: number) => {
    pauses.push(ms);
  };
  /** An attempt that plays the given outcomes in turn, recording the attempt numbers it was called with. */
  const scripted = <T, F>(...outcomes: Attempt<T, F>[]) => {
    const calls: number[] = [];
    const attempt = async (count: number) => {
      calls.push(count);
      return outcomes[count - 1] as Attempt<T, F>;
    };
    return { calls, attempt };
  };

  beforeEach(() => {
    pauses = [];
  });

  it('answers with the first result, pausing after each failed attempt by its number', async () => {
    const { calls, attempt } = scripted<string, string>({ failed: 'a' }, { failed: 'b' }, { done: 'ok' });

    const outcome = await withRetries({ maxAttempts: 5, delayMs: (n) => n * 10, sleep: fakeSleep }, attempt);

    expect(outcome).toEqual({ done: 'ok' });
    expect(calls).toEqual([1, 2, 3]);
    expect(pauses).toEqual([10, 20]);
  });

  it('gives up after maxAttempts with the last failure, without a pause after the last attempt', async () => {
    const { calls, attempt } = scripted<string, string>({ failed: 'a' }, { failed: 'b' }, { failed: 'c' });

    const outcome = await withRetries({ maxAttempts: 3, delayMs: () => 7, sleep: fakeSleep }, attempt);

    expect(outcome).toEqual({ failed: 'c' });
    expect(calls).toEqual([1, 2, 3]);
    expect(pauses).toEqual([7, 7]);
  });

  it('starts the next attempt at once after a failure marked withoutPause (it still counts as an attempt)', async () => {
    const { calls, attempt } = scripted<string, string>(
      { failed: 'stale token', withoutPause: true },
      { failed: 'b' },
      { failed: 'c' },
    );

    const outcome = await withRetries({ maxAttempts: 3, delayMs: (n) => n, sleep: fakeSleep }, attempt);

    expect(outcome).toEqual({ failed: 'c' });
    expect(calls).toEqual([1, 2, 3]);
    expect(pauses).toEqual([2]);
  });

  it('makes one attempt, and no pause, when only one is allowed', async () => {
    const { calls, attempt } = scripted<string, string>({ failed: 'a' }, { done: 'never reached' });

    expect(await withRetries({ maxAttempts: 1, delayMs: () => 1, sleep: fakeSleep }, attempt)).toEqual({
      failed: 'a',
    });
    expect(calls).toEqual([1]);
    expect(pauses).toEqual([]);
  });

  it('ends at once when an attempt throws: no further attempt, no pause', async () => {
    const calls: number[] = [];
    const hopeless = new Error('hopeless');

    const outcome = withRetries({ maxAttempts: 3, delayMs: () => 1, sleep: fakeSleep }, async (count) => {
      calls.push(count);
      if (count === 2) throw hopeless;
      return { failed: 'transient' };
    });

    await expect(outcome).rejects.toBe(hopeless);
    expect(calls).toEqual([1, 2]);
    expect(pauses).toEqual([1]);
  });

  it('pauses with the real sleep when none is given', async () => {
    jest.useFakeTimers();
    try {
      const calls: number[] = [];
      const outcome = withRetries<string, string>({ maxAttempts: 2, delayMs: () => 30 }, async (count) => {
        calls.push(count);
        return count === 1 ? { failed: 'a' } : { done: 'ok' };
      });
      await jest.advanceTimersByTimeAsync(29);
      expect(calls).toEqual([1]);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([1, 2]);
      expect(await outcome).toEqual({ done: 'ok' });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('exponentialDelay', () => {
  it('starts at the base after the first failed attempt and doubles after each next one', () => {
    const delay = exponentialDelay(500);
    expect([1, 2, 3, 4].map(delay)).toEqual([500, 1000, 2000, 4000]);
  });

  it('never goes above the cap', () => {
    const delay = exponentialDelay(200, 1000);
    expect([1, 2, 3, 4, 10].map(delay)).toEqual([200, 400, 800, 1000, 1000]);
  });
});

describe('fullJitter', () => {
  it('scales the delay by the random draw and rounds it to whole milliseconds', () => {
    const draws = [0, 0.5, 1, 0.3333];
    const delay = fullJitter(exponentialDelay(200, 4000), () => draws.shift() as number);
    expect([1, 2, 3, 4].map(delay)).toEqual([0, 200, 800, 533]);
  });

  it('stays between 0 and the delay with Math.random', () => {
    const delay = fullJitter(() => 1000);
    for (let i = 0; i < 100; i++) {
      const ms = delay(1);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(1000);
      expect(Number.isInteger(ms)).toBe(true);
    }
  });
});
