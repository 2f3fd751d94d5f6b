import { SMA as ReferenceSMA } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { SMA } from './sma.js';

testIndicatorContract('SMA(1)', () => new SMA(1), { warmupPeriod: 1 });
testIndicatorContract('SMA(5)', () => new SMA(5), { warmupPeriod: 5 });
testIndicatorContract('SMA(20)', () => new SMA(20), { warmupPeriod: 20 });

/** The mean of the `period` inputs ending at index `end`, summed directly. */
function directMean(inputs: readonly number[], end: number, period: number): number {
  let sum = 0;
  for (let i = end - period + 1; i <= end; i += 1) sum += inputs[i]!;
  return sum / period;
}

describe('SMA', () => {
  it('averages the last period inputs', () => {
    expect(feed(new SMA(3), [1, 2, 3, 4, 8])).toEqual([null, null, 2, 3, 5]);
    expect(feed(new SMA(1), [4, -2])).toEqual([4, -2]);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new SMA(0)).toThrow('SMA period must be a positive integer, got 0');
    expect(() => new SMA(2.5)).toThrow('SMA period must be a positive integer, got 2.5');
    expect(() => new SMA(Number.NaN)).toThrow('got NaN');
    expect(() => new SMA(-3)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new SMA(2).update(Number.NaN)).toThrow('SMA input must be a finite number, got NaN');
    expect(() => new SMA(2).replace(Number.POSITIVE_INFINITY)).toThrow(
      'SMA input must be a finite number, got Infinity',
    );
  });

  it('agrees with trading-signals SMA on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 2, 14, 50, 200]) {
      const comparison = compareWithReference(new SMA(period), new ReferenceSMA(period), inputs);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  it('does not drift over 1,000,000 updates', () => {
    const inputs = randomWalk(1_000_000, 5).map((x) => x * 1_000 + 1e6);
    const period = 30;
    const sma = new SMA(period);
    let worst = 0;
    inputs.forEach((x, i) => {
      const actual = sma.update(x);
      if (i >= period - 1 && i % 9_973 === 0)
        worst = Math.max(worst, relativeError(actual!, directMean(inputs, i, period)));
    });
    worst = Math.max(worst, relativeError(sma.result!, directMean(inputs, inputs.length - 1, period)));
    expect(worst).toBeLessThan(1e-9);
  });

  it('keeps full precision when the series drops from 1e10 to 100 (a plain running sum is off by 1e-5)', () => {
    const walk = randomWalk(1_000_000, 5);
    const inputs = walk.map((x, i) => (i < 500_000 ? x * 1e6 + 1e10 : x));
    const sma = new SMA(30);
    feed(sma, inputs);
    expect(relativeError(sma.result!, directMean(inputs, inputs.length - 1, 30))).toBeLessThan(1e-9);
  });

  it('recovers small values exactly after a huge value leaves the window', () => {
    const sma = new SMA(2);
    feed(sma, [1e20, 1.5, 2.5]);
    expect(sma.result).toBe(2);
  });
});
