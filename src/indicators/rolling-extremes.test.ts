import { describe, expect, it } from 'vitest';
import { randomWalk } from './indicator-contract.test-kit.js';
import { RollingExtremes } from './rolling-extremes.js';

const batch = (xs: readonly number[], period: number, i: number): [number, number] => {
  const slice = xs.slice(Math.max(0, i + 1 - period), i + 1);
  return [Math.max(...slice), Math.min(...slice)];
};

describe('RollingExtremes', () => {
  it('tracks the max and min of the last period values, as a batch scan does', () => {
    for (const period of [1, 2, 3, 7, 50]) {
      const xs = randomWalk(400, period).map((x) => Math.round(x)); // rounding makes ties
      const window = new RollingExtremes(period);
      xs.forEach((x, i) => {
        window.push(x);
        expect([window.max(), window.min()]).toEqual(batch(xs, period, i));
        expect(window.count).toBe(Math.min(i + 1, period));
        expect(window.ago(0)).toBe(x);
      });
    }
  });

  it('replaces the newest value exactly, repeatedly', () => {
    const xs = randomWalk(200, 4);
    const fixes = randomWalk(200, 9);
    const window = new RollingExtremes(10);
    const seen: number[] = [];
    xs.forEach((x, i) => {
      window.push(x + 100);
      window.replaceNewest(fixes[i]!);
      window.replaceNewest(x);
      seen.push(x);
      expect([window.max(), window.min()]).toEqual(batch(seen, 10, i));
    });
  });

  it('is empty after reset and when new; replace before any push acts as push', () => {
    const window = new RollingExtremes(3);
    expect([window.max(), window.min(), window.count]).toEqual([-Infinity, Infinity, 0]);
    window.replaceNewest(4);
    expect([window.max(), window.min(), window.isFull]).toEqual([4, 4, false]);
    window.reset();
    expect(window.count).toBe(0);
  });

  it('rejects a bad period naming its owner', () => {
    expect(() => new RollingExtremes(0, 'KDJ')).toThrow(/KDJ period must be a positive integer, got 0/);
  });
});
