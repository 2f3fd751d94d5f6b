import { describe, expect, it } from 'vitest';
import { DistinctBuckets } from './distinct-buckets.js';

describe('DistinctBuckets', () => {
  it('counts each bucket once, in whatever order and however often it arrives', () => {
    const ticks = new DistinctBuckets(() => -Infinity);
    const added = [120, 60, 120, 180, 60, 90, 180].map((bucket) => ticks.add(bucket));
    expect(added).toEqual([true, true, false, true, false, true, false]);
    expect(ticks.count).toBe(4);
  });

  it("holds only the buckets at or after the inputs' floor, and takes older ones as counted", () => {
    let floor = -Infinity;
    const ticks = new DistinctBuckets(() => floor);
    for (let k = 0; k < 10_000; k++) {
      // Two inputs: one at k, one trailing it by 5 buckets.
      floor = Math.max(0, k - 5) * 60;
      ticks.add(k * 60);
      if (k >= 5) expect(ticks.add((k - 5) * 60)).toBe(false);
    }
    expect(ticks.count).toBe(10_000);
    expect(ticks.held).toBeLessThanOrEqual(2048);
    expect(ticks.add(0)).toBe(false);
  });

  it('holds at most 65,536 buckets when an input that stands still holds the floor back', () => {
    const ticks = new DistinctBuckets(() => -Infinity);
    for (let k = 0; k < 200_000; k++) ticks.add(k);
    expect(ticks.count).toBe(200_000);
    expect(ticks.held).toBeLessThanOrEqual(65_536);
    // The newest are still known; the oldest were forgotten and count as counted.
    expect(ticks.add(199_999)).toBe(false);
    expect(ticks.add(5)).toBe(false);
  });
});
