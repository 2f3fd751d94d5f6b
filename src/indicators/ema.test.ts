import { EMA as ReferenceEMA } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { EMA } from './ema.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';

testIndicatorContract('EMA(1)', () => new EMA(1), { warmupPeriod: 1 });
testIndicatorContract('EMA(3)', () => new EMA(3), { warmupPeriod: 3 });
testIndicatorContract('EMA(21)', () => new EMA(21), { warmupPeriod: 21 });

/** The textbook EMA over a whole series: SMA of the first `period` inputs, then the recursion. */
function batchEma(inputs: readonly number[], period: number): (number | null)[] {
  const alpha = 2 / (period + 1);
  const seed = inputs.slice(0, period).reduce((sum, x) => sum + x, 0) / period;
  let ema = seed;
  return inputs.map((x, i) => {
    if (i < period - 1) return null;
    if (i > period - 1) ema += alpha * (x - ema);
    return ema;
  });
}

describe('EMA', () => {
  it('seeds with the simple mean of the first period inputs, then smooths with α = 2/(period+1)', () => {
    expect(feed(new EMA(3), [1, 2, 3, 4, 8])).toEqual([null, null, 2, 3, 5.5]);
    expect(new EMA(3).alpha).toBe(0.5);
    expect(feed(new EMA(1), [4, -2])).toEqual([4, -2]);
  });

  // ema + α·(x − ema) with α = 1 rounds a small x away next to a large average (gave 0 here).
  it('is the identity with period 1, also after a huge input', () => {
    const inputs = [1e12, 1e-6, -3e-9, 7e20, 0.1];
    expect(feed(new EMA(1), inputs)).toEqual(inputs);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new EMA(0)).toThrow('EMA period must be a positive integer, got 0');
    expect(() => new EMA(1.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new EMA(2).update(Number.NEGATIVE_INFINITY)).toThrow(
      'EMA input must be a finite number, got -Infinity',
    );
  });

  it('matches the batch formula on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [1, 2, 10, 50, 200]) {
      const expected = batchEma(inputs, period);
      const actual = feed(new EMA(period), inputs);
      expect(actual.map((value) => value === null)).toEqual(expected.map((value) => value === null));
      const errors = actual
        .slice(period - 1)
        .map((value, i) => relativeError(value!, expected[i + period - 1]!));
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // trading-signals' EMA seeds with the first input (ema₁ = x₁) and applies the recursion from
  // there, reporting a result once `period` inputs are in. Our textbook EMA seeds with the SMA of
  // the first `period` inputs. Both run the same recursion, so the gap shrinks by (1−α) per input:
  // compare once (1−α)^n has fallen below 1e-13, and check the warm-up positions everywhere.
  it('agrees with trading-signals EMA on a 10,000-value random walk once the seed has decayed', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [2, 10, 50, 200]) {
      const ema = new EMA(period);
      const burnIn = period + Math.ceil(Math.log(1e-13) / Math.log(1 - ema.alpha));
      const comparison = compareWithReference(ema, new ReferenceEMA(period), inputs, burnIn);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - burnIn });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
