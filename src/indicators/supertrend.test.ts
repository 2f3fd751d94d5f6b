import { SuperTrend as ReferenceSuperTrend } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { RangeBar } from './atr.js';
import {
  badBars,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { SuperTrend, type SuperTrendResult } from './supertrend.js';

for (const [period, multiplier] of [
  [1, 1],
  [2, 3],
  [5, 0.5],
  [10, 3],
] as const) {
  const length = 3 * period + 40;
  testIndicatorContract(`SuperTrend(${period}, ${multiplier})`, () => new SuperTrend(period, multiplier), {
    warmupPeriod: period,
    inputs: randomBars(length, 7),
    corrections: randomBars(length, 11),
    badInputs: badBars(['high', 'low', 'close']),
  });
}

/** The two places where SuperTrend definitions in use differ. */
interface Variant {
  /** Whether the close is compared with the previous bar's final bands or this bar's. */
  readonly flipAgainst: 'previous' | 'current';
  /** The trend before the first warm bar, which then flips against that bar's own bands. */
  readonly start: 1 | -1;
}

const ours: Variant = { flipAgainst: 'previous', start: 1 };
// trading-signals' SuperTrend: `isUp = close > finalUpper` on the first bar, then
// `isUp = previous.isUp ? close >= finalLower : close > finalUpper`.
const tradingSignals: Variant = { flipAgainst: 'current', start: -1 };

/** SuperTrend over a whole series: Wilder's ATR, then the final bands and the trend bar by bar. */
function batchSuperTrend(
  bars: readonly RangeBar[],
  period: number,
  multiplier: number,
  variant: Variant,
): (SuperTrendResult | null)[] {
  const ranges = bars.map(({ high, low }, i) => {
    const previous = bars[i - 1]?.close;
    if (previous === undefined) return high - low;
    return Math.max(high - low, Math.abs(high - previous), Math.abs(low - previous));
  });
  const atr: number[] = [];
  atr[period - 1] = ranges.slice(0, period).reduce((sum, x) => sum + x, 0) / period;
  for (let i = period; i < bars.length; i++) atr[i] = (atr[i - 1]! * (period - 1) + ranges[i]!) / period;
  const finalUpper: number[] = [];
  const finalLower: number[] = [];
  const trend: (1 | -1)[] = [];
  return bars.map(({ high, low, close }, i) => {
    if (i < period - 1) return null;
    const basicUpper = (high + low) / 2 + multiplier * atr[i]!;
    const basicLower = (high + low) / 2 - multiplier * atr[i]!;
    const first = i === period - 1;
    const previousUpper = first ? basicUpper : finalUpper[i - 1]!;
    const previousLower = first ? basicLower : finalLower[i - 1]!;
    const previousClose = bars[i - 1]?.close ?? close;
    finalUpper[i] =
      first || basicUpper < previousUpper || previousClose > previousUpper ? basicUpper : previousUpper;
    finalLower[i] =
      first || basicLower > previousLower || previousClose < previousLower ? basicLower : previousLower;
    const upper = variant.flipAgainst === 'previous' ? previousUpper : finalUpper[i];
    const lower = variant.flipAgainst === 'previous' ? previousLower : finalLower[i];
    const before = first ? variant.start : trend[i - 1]!;
    trend[i] = before === -1 ? (close > upper ? 1 : -1) : close < lower ? -1 : 1;
    return { value: trend[i] === 1 ? finalLower[i] : finalUpper[i], direction: trend[i] };
  });
}

describe('SuperTrend', () => {
  it('trails the lower band in an uptrend and flips when the close crosses the previous band', () => {
    const trend = new SuperTrend(1, 1);
    // Bar 1: ATR 2, bands 10 ± 2. Starts up: value = lower band 8.
    expect(trend.update({ high: 11, low: 9, close: 10 })).toEqual({ value: 8, direction: 1 });
    // Bar 2: ATR 3 (13 − 10), bands 11.5 ± 3 = 14.5 / 8.5. The lower band rises to 8.5, the upper
    // band stays at 12 (14.5 is higher and the previous close 10 was below 12).
    expect(trend.update({ high: 13, low: 10, close: 12 })).toEqual({ value: 8.5, direction: 1 });
    // Bar 3: ATR 4 (12 − 8), bands 8.5 ± 4 = 12.5 / 4.5. The lower band stays at 8.5 (4.5 is lower
    // and the previous close was above it); the close 8 is below the previous lower band 8.5: the
    // trend turns down and the value is the upper band, 12 (12.5 is higher than the previous 12).
    expect(trend.update({ high: 9, low: 8, close: 8 })).toEqual({ value: 12, direction: -1 });
    // Bar 4: ATR 5 (13 − 8), bands 11 ± 5 = 16 / 6. Upper stays 12; the close 12.5 is above it: up,
    // on the lower band, which resets to 6 since the previous close 8 was below the previous 8.5.
    expect(trend.update({ high: 13, low: 9, close: 12.5 })).toEqual({ value: 6, direction: 1 });
  });

  it('compares the close with the previous final bands, not the current ones', () => {
    const trend = new SuperTrend(1, 0.25);
    // ATR 2, bands 10 ± 0.5 = 10.5 / 9.5: up, on 9.5.
    expect(trend.update({ high: 11, low: 9, close: 10 })).toEqual({ value: 9.5, direction: 1 });
    // ATR 2, bands 11 ± 0.5 = 11.5 / 10.5: the lower band rises to 10.5. The close 10.2 is below
    // it but not below the previous lower band 9.5, so the trend stays up (against the current
    // band it would turn down).
    expect(trend.update({ high: 12, low: 10, close: 10.2 })).toEqual({ value: 10.5, direction: 1 });
  });

  it('starts up on the first warm bar unless it closes below its own lower band', () => {
    expect(new SuperTrend(1, 1).update({ high: 11, low: 9, close: 9 })).toEqual({ value: 8, direction: 1 });
    // ATR 2, hl2 10, bands 10.5 / 9.5 with multiplier 0.25: the close 9.2 is below 9.5.
    expect(new SuperTrend(1, 0.25).update({ high: 11, low: 9, close: 9.2 })).toEqual({
      value: 10.5,
      direction: -1,
    });
  });

  it('does not overflow on finite bars near 1e308: (high + low)/2 would be Infinity', () => {
    const bar = { high: 1e308, low: 1e308, close: 1e308 };
    expect(feed(new SuperTrend(1, 3), [bar, bar])).toEqual([
      { value: 1e308, direction: 1 },
      { value: 1e308, direction: 1 },
    ]);
    const wide = new SuperTrend(1, 1).update({ high: 1.5e308, low: 1.3e308, close: 1.4e308 })!;
    expect(wide.direction).toBe(1);
    expect(relativeError(wide.value, 1.2e308)).toBeLessThan(1e-15);
  });

  it('returns a new frozen record on every update', () => {
    const results = feed(new SuperTrend(1, 1), randomBars(2, 3));
    expect(Object.isFrozen(results[1])).toBe(true);
    expect(results[0]).not.toBe(results[1]);
  });

  it('defaults to 10 bars and 3 ATRs', () => {
    const trend = new SuperTrend();
    expect([trend.warmupPeriod, trend.multiplier]).toEqual([10, 3]);
  });

  it('rejects a bad period or multiplier, naming the parameter and the value', () => {
    expect(() => new SuperTrend(0)).toThrow('SuperTrend period must be a positive integer, got 0');
    expect(() => new SuperTrend(10, 0)).toThrow(
      'SuperTrend multiplier must be a positive finite number, got 0',
    );
    expect(() => new SuperTrend(10, Number.NaN)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new SuperTrend().update({ high: 2, low: Number.NEGATIVE_INFINITY, close: 1 })).toThrow(
      'SuperTrend input low must be a finite number, got -Infinity',
    );
  });

  it('matches the batch formula on 10,000 random bars to 1e-9, through hundreds of flips', () => {
    const bars = randomBars(10_000, 42);
    for (const [period, multiplier] of [
      [1, 1],
      [3, 2],
      [10, 3],
      [10, 0.5],
    ] as const) {
      const expected = batchSuperTrend(bars, period, multiplier, ours);
      const actual = feed(new SuperTrend(period, multiplier), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      let worst = 0;
      let flips = 0;
      let wrongDirections = 0;
      actual.forEach((result, i) => {
        if (result === null) return;
        if (result.direction !== expected[i]!.direction) wrongDirections += 1;
        worst = Math.max(worst, relativeError(result.value, expected[i]!.value));
        if (actual[i - 1] && actual[i - 1]!.direction !== result.direction) flips += 1;
      });
      expect(wrongDirections).toBe(0);
      expect(worst).toBeLessThan(1e-9);
      expect(flips).toBeGreaterThan(200);
    }
  });

  // trading-signals' SuperTrend ratchets the final bands by the same rule, but flips on the close
  // against the current final bands (ours: the previous ones, as the brief and the original script
  // do) and starts down unless the first bar closes above its upper band. The batch formula with
  // those two choices reproduces it exactly, so the differences are those two choices and no more.
  it('differs from trading-signals SuperTrend only by its flip comparison and its start', () => {
    const bars = randomBars(10_000, 42);
    for (const [period, multiplier] of [
      [1, 1],
      [3, 2],
      [10, 3],
      [10, 0.5],
    ] as const) {
      const variant = batchSuperTrend(bars, period, multiplier, tradingSignals);
      const reference = new ReferenceSuperTrend({ interval: period, multiplier });
      let worst = 0;
      let mismatches = 0;
      bars.forEach((bar, i) => {
        reference.add(bar);
        const theirs = reference.getResult();
        const expected = variant[i] ?? null;
        if (theirs === null || expected === null) {
          if (theirs !== expected) mismatches += 1;
          return;
        }
        if ((theirs.trend === 'BULLISH' ? 1 : -1) !== expected.direction) mismatches += 1;
        worst = Math.max(worst, relativeError(theirs.supertrend, expected.value));
      });
      expect(mismatches).toBe(0);
      expect(worst).toBeLessThan(1e-9);
      // And the two definitions do differ on this series, near some flips.
      const mine = batchSuperTrend(bars, period, multiplier, ours);
      expect(mine.some((x, i) => x !== null && x.direction !== variant[i]!.direction)).toBe(true);
    }
  });
});
