import { ATR as TiATR } from 'technicalindicators';
import { ATR as ReferenceATR } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { ATR, assertMultiplier, type RangeBar } from './atr.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';

for (const period of [1, 2, 14]) {
  const length = 3 * period + 40;
  testIndicatorContract(`ATR(${period})`, () => new ATR(period), {
    warmupPeriod: period,
    inputs: randomBars(length, 7),
    corrections: randomBars(length, 11),
    badInputs: badBars(['high', 'low', 'close']),
  });
}

/** Wilder's ATR over a whole series: true ranges, their mean over the first period, the recursion. */
function batchAtr(bars: readonly RangeBar[], period: number): (number | null)[] {
  const ranges = bars.map(({ high, low }, i) => {
    const previous = bars[i - 1]?.close;
    if (previous === undefined) return high - low;
    return Math.max(high - low, Math.abs(high - previous), Math.abs(low - previous));
  });
  let atr = ranges.slice(0, period).reduce((sum, x) => sum + x, 0) / period;
  return ranges.map((range, i) => {
    if (i < period - 1) return null;
    if (i > period - 1) atr = (atr * (period - 1) + range) / period;
    return atr;
  });
}

/** technicalindicators' ATR through the reference interface (`nextValue` is undefined until ready). */
function tiAtr(period: number): ReferenceIndicator<RangeBar, number> {
  const atr = new TiATR({ period, high: [], low: [], close: [] });
  let last: number | undefined;
  return {
    add: (bar) => (last = atr.nextValue(bar)),
    getResult: () => last ?? null,
  };
}

describe('ATR', () => {
  it('takes high − low as the first true range and the gap to the previous close after', () => {
    const atr = new ATR(1);
    expect(atr.update({ high: 11, low: 9, close: 10 })).toBe(2);
    expect(atr.update({ high: 13, low: 11, close: 12 })).toBe(3); // gap up: 13 − 10
    expect(atr.update({ high: 10, low: 9, close: 9.5 })).toBe(3); // gap down: 12 − 9
    expect(atr.update({ high: 10, low: 9, close: 9.5 })).toBe(1);
  });

  it('averages the first period true ranges simply, then smooths them the Wilder way', () => {
    const bars = [
      { high: 11, low: 9, close: 10 }, // tr 2
      { high: 13, low: 11, close: 12 }, // tr 3
      { high: 12, low: 11, close: 11.5 }, // tr 1
      { high: 16, low: 12, close: 15 }, // tr 4.5
    ];
    // (2 + 3)/2 = 2.5, then (2.5 + 1)/2 = 1.75, then (1.75 + 4.5)/2 = 3.125.
    expect(feed(new ATR(2), bars)).toEqual([null, 2.5, 1.75, 3.125]);
    // Not a simple moving average of the true range, which would give 2.75 last.
    expect(feed(new ATR(3), bars)).toEqual([null, null, 2, (2 * 2 + 4.5) / 3]);
  });

  it('defaults to Wilder’s period of 14', () => {
    expect(new ATR().warmupPeriod).toBe(14);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new ATR(0)).toThrow('ATR period must be a positive integer, got 0');
    expect(() => new ATR(2.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new ATR().update({ high: 2, low: Number.NaN, close: 1 })).toThrow(
      'ATR input low must be a finite number, got NaN',
    );
    expect(() => new ATR().replace(null as never)).toThrow(/ATR input must be a bar with high, low, close/);
  });

  it('checks multipliers for the band indicators built on it', () => {
    expect(assertMultiplier('X', 0.5)).toBe(0.5);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '2']) {
      expect(() => assertMultiplier('SuperTrend', bad)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
    expect(() => assertMultiplier('SuperTrend', 0)).toThrow(
      'SuperTrend multiplier must be a positive finite number, got 0',
    );
    expect(() => assertMultiplier('SuperTrend', '2')).toThrow('got "2"');
  });

  it('matches the batch formula on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [1, 2, 14, 50]) {
      const expected = batchAtr(bars, period);
      const actual = feed(new ATR(period), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      const errors = actual.slice(period - 1).map((x, i) => relativeError(x!, expected[i + period - 1]!));
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // trading-signals' ATR takes high − low as the first true range and smooths with its WSMA (the
  // mean of the first `period` values, then Wilder's recursion): the same definition as ours.
  it('agrees with trading-signals ATR on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [1, 2, 14, 50]) {
      const comparison = compareWithReference(new ATR(period), new ReferenceATR(period), bars);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' ATR has no true range for the first bar (it waits for a previous close),
  // so it warms up one bar later and seeds with the mean of true ranges 2…period+1. The recursion
  // is the same, so the gap shrinks by (1 − 1/period) per bar: compare once that is below 1e-13.
  it('agrees with technicalindicators ATR on 10,000 random bars once its later seed has decayed', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [2, 14, 50]) {
      const burnIn = period + Math.ceil(Math.log(1e-13) / Math.log(1 - 1 / period));
      const comparison = compareWithReference(new ATR(period), tiAtr(period), bars, burnIn);
      expect(comparison).toMatchObject({ warmupMismatches: 1, compared: bars.length - burnIn });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});

describe('bar consistency', () => {
  it('refuses an inverted bar (high < low) instead of returning a negative true range', () => {
    const atr = new ATR(1);
    expect(() => atr.update({ high: 9, low: 11, close: 10 })).toThrow(
      'ATR input is not a consistent bar: low 11 is above high 9',
    );
    expect(() => atr.update({ high: 11, low: 9, close: 12 })).toThrow(
      'ATR input is not a consistent bar: close 12 is outside [low 9, high 11]',
    );
    expect(atr.update({ high: 11, low: 9, close: 11 })).toBe(2);
  });
});
