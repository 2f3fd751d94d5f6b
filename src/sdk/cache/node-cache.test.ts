import { describe, expect, it } from 'vitest';
import { AppendOutcome } from './series-ring.js';
import { NodeCache } from './node-cache.js';

describe('NodeCache', () => {
  it('buckets timestamps and flags gaps between non-contiguous buckets', () => {
    const cache = new NodeCache(4);
    expect(cache.append('u', 60, 102, 1)).toBe(AppendOutcome.Appended);
    expect(cache.latest('u', 60)).toEqual([60, 1]);
    expect(cache.append('u', 60, 170, 2)).toBe(AppendOutcome.Appended);
    expect(cache.latest('u', 60)).toEqual([120, 2]);
    expect(cache.missingFlags().get('u')?.get(60)).toBe(false);
    expect(cache.append('u', 60, 300, 3)).toBe(AppendOutcome.Gap);
    expect(cache.missingFlags().get('u')?.get(60)).toBe(true);
    expect(cache.lastTimestamps().get('u')?.get(60)).toBe(300);
  });

  it('treats string and numeric intervals of the same length alike through parseInterval', () => {
    const cache = new NodeCache(2);
    cache.append('u', 60, 61, 1);
    expect(cache.window('u', 60)?.timestamps()).toEqual(new Float64Array([60]));
  });

  it('is ready only when every declared series holds period bars', () => {
    const cache = new NodeCache(2);
    const declared = [
      { upstreamId: 'a', interval: 60 },
      { upstreamId: 'b', interval: 60 },
    ];
    cache.append('a', 60, 60, 1);
    cache.append('a', 60, 120, 2);
    expect(cache.isReady(declared)).toBe(false);
    cache.append('b', 60, 60, 1);
    expect(cache.isReady(declared)).toBe(false);
    cache.append('b', 60, 120, 2);
    expect(cache.isReady(declared)).toBe(true);
  });

  it('retains nothing beyond period bars and reports resident bytes', () => {
    const cache = new NodeCache(4);
    for (let i = 0; i < 100; i++) cache.append('u', 60, i * 60, i);
    expect(cache.window<number>('u', 60)?.values()).toEqual(new Float64Array([96, 97, 98, 99]));
    expect(cache.residentBytes).toBe(128);
  });

  it('drops a series idempotently', () => {
    const cache = new NodeCache(2);
    cache.append('u', 60, 60, 1);
    cache.drop('u', 60);
    cache.drop('u', 60);
    expect(cache.window('u', 60)).toBeNull();
    expect(cache.keys()).toEqual([]);
  });

  it('rejects a non-finite timestamp and a bad period', () => {
    expect(() => new NodeCache(0)).toThrow(/period must be a positive integer/);
    expect(() => new NodeCache(2).append('u', 60, Number.NaN, 1)).toThrow(/finite number/);
  });

  describe('backfillBulk', () => {
    it('merges history with live data, live wins on equal buckets, newest period kept', () => {
      const cache = new NodeCache(3);
      cache.append('u', 60, 240, 'live');
      cache.backfillBulk('u', 60, [
        [60, 'h1'],
        [120, 'h2'],
        [180, 'h3'],
        [240, 'h4'],
      ]);
      expect([...cache.window<string>('u', 60)!]).toEqual([
        [120, 'h2'],
        [180, 'h3'],
        [240, 'live'],
      ]);
      expect(cache.backfillState.ranges('u', 60)).toEqual([[60, 240]]);
      expect(cache.missingFlags().get('u')?.get(60)).toBe(false);
    });

    it('records separate ranges for non-contiguous runs and merges them across calls', () => {
      const cache = new NodeCache(10);
      cache.backfillBulk('u', 60, [
        [60, 1],
        [120, 2],
        [300, 3],
      ]);
      expect(cache.backfillState.ranges('u', 60)).toEqual([
        [60, 120],
        [300, 300],
      ]);
      cache.backfillBulk('u', 60, [
        [180, 4],
        [240, 5],
      ]);
      expect(cache.backfillState.ranges('u', 60)).toEqual([[60, 300]]);
      expect(cache.backfillState.isComplete('u', 60, 60, 300)).toBe(true);
      expect(cache.window<number>('u', 60)?.values()).toEqual(new Float64Array([1, 2, 4, 5, 3]));
    });

    it('sets the gap flag when history moves the newest bucket past a hole', () => {
      const cache = new NodeCache(5);
      cache.append('u', 60, 60, 1);
      cache.backfillBulk('u', 60, [[240, 2]]);
      expect(cache.latest('u', 60)).toEqual([240, 2]);
      expect(cache.missingFlags().get('u')?.get(60)).toBe(true);
    });
  });
});
