import { StochasticRSI as ReferenceStochRSI } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { StochRSI } from './stoch-rsi.js';

testIndicatorContract('StochRSI(1, 1)', () => new StochRSI(1, 1), { warmupPeriod: 2 });
testIndicatorContract('StochRSI(2, 3)', () => new StochRSI(2, 3), { warmupPeriod: 5 });
testIndicatorContract('StochRSI()', () => new StochRSI(), { warmupPeriod: 28 });

/** Wilder's RSI over a whole series, written out from its definition. */
function batchRsi(inputs: readonly number[], period: number): (number | null)[] {
  let gain = 0;
  let loss = 0;
  return inputs.map((x, i) => {
    if (i === 0) return null;
    const change = x - inputs[i - 1]!;
    const up = Math.max(change, 0);
    const down = Math.max(-change, 0);
    if (i <= period) {
      gain += up / period;
      loss += down / period;
      if (i < period) return null;
    } else {
      gain = (gain * (period - 1) + up) / period;
      loss = (loss * (period - 1) + down) / period;
    }
    return loss === 0 ? 100 : 100 - 100 / (1 + gain / loss);
  });
}

/** Stochastic RSI over a whole series: each RSI against the range of the last stochPeriod RSIs. */
function batchStochRsi(inputs: readonly number[], rsiPeriod: number, stochPeriod: number): (number | null)[] {
  const rsi = batchRsi(inputs, rsiPeriod);
  return rsi.map((value, i) => {
    const window = rsi.slice(i + 1 - stochPeriod, i + 1);
    if (value === null || i + 1 < stochPeriod || window.includes(null)) return null;
    const max = Math.max(...(window as number[]));
    const min = Math.min(...(window as number[]));
    return max === min ? 0 : (100 * (value - min)) / (max - min);
  });
}

describe('StochRSI', () => {
  it('places the newest RSI within the range of the last stochPeriod RSIs', () => {
    // RSI(2) of 1, 2, 1, 3, 2, 4: null, null, 50, 250/3, 50, 1050/13 (avg gain/loss 1.3125/0.3125).
    // The last window is [250/3, 50, 1050/13]: (1050/13 − 50)/(250/3 − 50) = 12/13.
    const values = feed(new StochRSI(2, 3), [1, 2, 1, 3, 2, 4]);
    expect(values.slice(0, 5)).toEqual([null, null, null, null, 0]);
    expect(values[5]).toBeCloseTo(1200 / 13, 10);
  });

  it('gives 0 when the RSI window is flat', () => {
    // A rising series has RSI 100 throughout; a constant one too (no losses).
    expect(feed(new StochRSI(3, 4), [1, 2, 3, 4, 5, 6, 7, 8])).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      0,
      0,
    ]);
    expect(feed(new StochRSI(2, 2), [5, 5, 5, 5, 5]).at(-1)).toBe(0);
  });

  // Wilder's RSI is mathematically constant along identical inputs; computed afresh it wobbled by an
  // ulp (55.824918036068084 vs …09), which made this 50 or 100 instead of 0.
  it('gives 0 once the last stochPeriod inputs are identical, after a moving stretch', () => {
    const inputs = randomWalk(3_000, 12);
    for (let start = 100; start < inputs.length; start += 300) inputs.fill(inputs[start]!, start, start + 60);
    for (const [rsiPeriod, stochPeriod] of [
      [14, 14],
      [2, 3],
      [5, 2],
    ] as const) {
      const values = feed(new StochRSI(rsiPeriod, stochPeriod), inputs);
      let flat = 0;
      inputs.forEach((_, i) => {
        const last = inputs.slice(i + 1 - stochPeriod, i + 1);
        if (i < rsiPeriod + stochPeriod || last.some((x) => x !== last[0])) return;
        flat += 1;
        expect(values[i], `StochRSI(${rsiPeriod}, ${stochPeriod}) at ${i}`).toBe(0);
      });
      expect(flat).toBeGreaterThan(400);
    }
  });

  it('stays within [0, 100] and reaches both ends', () => {
    const values = feed(new StochRSI(5, 5), randomWalk(5_000, 3)).filter((x) => x !== null);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(100);
  });

  it('defaults to periods 14 and 14', () => {
    expect(new StochRSI().warmupPeriod).toBe(28);
  });

  it('rejects periods that are not positive integers, naming the parameter and value', () => {
    expect(() => new StochRSI(0)).toThrow('StochRSI rsiPeriod must be a positive integer, got 0');
    expect(() => new StochRSI(14, 2.5)).toThrow('StochRSI stochPeriod must be a positive integer, got 2.5');
    expect(() => new StochRSI(Number.NaN)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new StochRSI().update(Number.NaN)).toThrow(
      'StochRSI input must be a finite number, got NaN',
    );
    expect(() => new StochRSI().replace(Number.POSITIVE_INFINITY)).toThrow(
      'StochRSI input must be a finite number, got Infinity',
    );
  });

  it('matches the batch formula on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const [rsiPeriod, stochPeriod] of [
      [1, 1],
      [2, 5],
      [14, 14],
      [30, 7],
    ] as const) {
      const expected = batchStochRsi(inputs, rsiPeriod, stochPeriod);
      const actual = feed(new StochRSI(rsiPeriod, stochPeriod), inputs);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      const errors = actual.flatMap((x, i) => (x === null ? [] : [relativeError(x, expected[i]!)]));
      expect(errors).toHaveLength(inputs.length - rsiPeriod - stochPeriod + 1);
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // trading-signals' StochasticRSI(n) takes one period for both stages (Wilder RSI via its WSMA,
  // then the range of n RSIs) and returns a fraction in [0, 1]: ours is 100 times it. It returns 100
  // (not 1) on a flat window and skips RSI values of exactly 0 (`if (rsiResult)`), neither of which
  // happens on these walks. technicalindicators' StochasticRSI rounds each RSI to 2 decimals and only
  // reports once its %K/%D smoothing is ready, so it is not compared.
  it('agrees with trading-signals StochasticRSI (× 100) on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [2, 5, 14, 50]) {
      const comparison = compareWithReference(
        new StochRSI(period, period),
        new ReferenceStochRSI(period),
        inputs,
        {
          selectReference: (fraction) => [100 * fraction],
        },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - 2 * period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
