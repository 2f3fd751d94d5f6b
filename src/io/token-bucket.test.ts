import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

/** A clock that only moves when the bucket sleeps, recording each wait. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; waits: number[] } {
  let time = 0;
  const waits: number[] = [];
  return {
    now: () => time,
    sleep: (ms) => {
      waits.push(ms);
      time += ms;
      return Promise.resolve();
    },
    waits,
  };
}

describe('TokenBucket', () => {
  it('lets a full bucket burst, then spaces takes at the refill rate', async () => {
    const clock = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 4, capacity: 3, ...clock });
    const times: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      await bucket.take();
      times.push(clock.now());
    }
    expect(times).toEqual([0, 0, 0, 250, 500, 750]);
  });

  it('serves concurrent callers in order, one token each', async () => {
    const clock = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 10, ...clock });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => bucket.take().then(() => order.push(n))));
    expect(order).toEqual([1, 2, 3]);
    expect(clock.waits).toEqual([100, 100]);
  });

  it('refills while idle, never beyond capacity', async () => {
    const clock = fakeTime();
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 2, ...clock });
    await bucket.take();
    await bucket.take();
    await clock.sleep(10_000);
    clock.waits.length = 0;
    for (let i = 0; i < 3; i += 1) await bucket.take();
    expect(clock.waits).toEqual([1000]);
  });

  it('rejects a non-positive rate or a capacity below one', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(
      'ratePerSecond must be a positive number, got 0',
    );
    expect(() => new TokenBucket({ ratePerSecond: 1, capacity: 0.5 })).toThrow(/capacity/);
  });
});
