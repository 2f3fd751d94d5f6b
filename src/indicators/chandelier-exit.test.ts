import { ChandelierExit as TiChandelierExit } from 'technicalindicators';
import { ChandelierExit as ReferenceChandelierExit } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { RangeBar } from './atr.js';
import { ChandelierExit, type ChandelierExitResult } from './chandelier-exit.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';

for (const [period, multiplier] of [
  [1, 3],
  [2, 1],
  [5, 0.5],
  [22, 3],
] as const) {
  const length = 3 * period + 40;
  testIndicatorContract(
    `ChandelierExit(${period}, ${multiplier})`,
    () => new ChandelierExit(period, multiplier),
    {
      warmupPeriod: period,
      inputs: randomBars(length, 7),
      corrections: randomBars(length, 11),
      badInputs: badBars(['high', 'low', 'close']),
    },
  );
}

const stops = (result: ChandelierExitResult): number[] => [result.long, result.short];

/** The stops over a whole series: Wilder's ATR and a scan of the last `period` highs and lows. */
function batchChandelier(bars: readonly RangeBar[], period: number, multiplier: number): (number[] | null)[] {
  const ranges = bars.map(({ high, low }, i) => {
    const previous = bars[i - 1]?.close;
    if (previous === undefined) return high - low;
    return Math.max(high - low, Math.abs(high - previous), Math.abs(low - previous));
  });
  let atr = ranges.slice(0, period).reduce((sum, x) => sum + x, 0) / period;
  return bars.map((_, i) => {
    if (i < period - 1) return null;
    if (i > period - 1) atr = (atr * (period - 1) + ranges[i]!) / period;
    const window = bars.slice(i - period + 1, i + 1);
    const highest = Math.max(...window.map((bar) => bar.high));
    const lowest = Math.min(...window.map((bar) => bar.low));
    return [highest - multiplier * atr, lowest + multiplier * atr];
  });
}

/** technicalindicators' ChandelierExit through the reference interface. */
function tiChandelier(period: number, multiplier: number): ReferenceIndicator<RangeBar, number[]> {
  const indicator = new TiChandelierExit({ period, multiplier, high: [], low: [], close: [] });
  let last: number[] | null = null;
  return {
    add: (bar) => {
      const result = indicator.nextValue(bar as never);
      last = result === undefined ? null : [result.exitLong, result.exitShort];
    },
    getResult: () => last,
  };
}

describe('ChandelierExit', () => {
  it('hangs the stops multiplier ATRs from the highest high and the lowest low of the window', () => {
    const bars = [
      { high: 11, low: 9, close: 10 }, // tr 2
      { high: 13, low: 11, close: 12 }, // tr 3 → ATR(2) 2.5
      { high: 12, low: 11, close: 11.5 }, // tr 1 → ATR 1.75; window highs 13, 12, lows 11, 11
    ];
    expect(feed(new ChandelierExit(2, 2), bars)).toEqual([
      null,
      { long: 13 - 5, short: 9 + 5 },
      { long: 13 - 3.5, short: 11 + 3.5 },
    ]);
  });

  it('returns a new frozen record on every update', () => {
    const results = feed(new ChandelierExit(1, 1), [
      { high: 2, low: 1, close: 1.5 },
      { high: 2, low: 1, close: 1.5 },
    ]);
    expect(Object.isFrozen(results[1])).toBe(true);
    expect(results[0]).not.toBe(results[1]);
  });

  it('defaults to Le Beau’s 22 bars and 3 ATRs', () => {
    const exit = new ChandelierExit();
    expect([exit.warmupPeriod, exit.multiplier]).toEqual([22, 3]);
  });

  it('rejects a bad period or multiplier, naming the parameter and the value', () => {
    expect(() => new ChandelierExit(0)).toThrow('ChandelierExit period must be a positive integer, got 0');
    expect(() => new ChandelierExit(22, -3)).toThrow(
      'ChandelierExit multiplier must be a positive finite number, got -3',
    );
    expect(() => new ChandelierExit(1.5)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new ChandelierExit().update({ high: Number.NaN, low: 1, close: 1 })).toThrow(
      'ChandelierExit input high must be a finite number, got NaN',
    );
  });

  it('matches the batch formula on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const [period, multiplier] of [
      [1, 3],
      [3, 2],
      [22, 3],
    ] as const) {
      const expected = batchChandelier(bars, period, multiplier);
      const actual = feed(new ChandelierExit(period, multiplier), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      let worst = 0;
      actual.forEach((result, i) => {
        if (result === null) return;
        stops(result).forEach(
          (value, k) => (worst = Math.max(worst, relativeError(value, expected[i]![k]!))),
        );
      });
      expect(worst).toBeLessThan(1e-9);
    }
  });

  // trading-signals' ChandelierExit uses its ATR (the same Wilder ATR as ours) over `interval` bars
  // and scans the last `interval` candles for the extremes: the same definition.
  it('agrees with trading-signals ChandelierExit on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const [period, multiplier] of [
      [1, 3],
      [3, 2],
      [22, 3],
    ] as const) {
      const comparison = compareWithReference(
        new ChandelierExit(period, multiplier),
        new ReferenceChandelierExit({ interval: period, multiplier }),
        bars,
        { select: stops, selectReference: stops },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' ChandelierExit takes the extremes the same way but uses its ATR, which has
  // no true range for the first bar: it warms up one bar later, seeded with true ranges
  // 2…period+1. The gap shrinks by (1 − 1/period) per bar: compare once that is below 1e-13.
  it('agrees with technicalindicators ChandelierExit on 10,000 random bars once its later ATR seed has decayed', () => {
    const bars = randomBars(10_000, 42);
    for (const [period, multiplier] of [
      [3, 2],
      [22, 3],
    ] as const) {
      const burnIn = period + Math.ceil(Math.log(1e-13) / Math.log(1 - 1 / period));
      const comparison = compareWithReference(
        new ChandelierExit(period, multiplier),
        tiChandelier(period, multiplier),
        bars,
        { from: burnIn, select: stops, selectReference: (result) => result },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 1, compared: bars.length - burnIn });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
