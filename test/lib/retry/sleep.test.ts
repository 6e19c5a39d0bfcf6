import { sleep } from '../../../lib/retry/sleep';

describe('sleep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves once the given time has passed, not before', async () => {
    let resolved = false;
    const waiting = sleep(30).then(() => {
      resolved = true;
    });

    await jest.advanceTimersByTimeAsync(29);
    expect(resolved).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(resolved).toBe(true);
    await waiting;
  });
});
