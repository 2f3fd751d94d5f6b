import { KeltnerChannels as TiKeltnerChannels } from 'technicalindicators';
import { KeltnerChannels as ReferenceKeltnerChannels } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { RangeBar } from './atr.js';
import type { Bands } from './bollinger-bands.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import { KeltnerChannel } from './keltner-channel.js';

for (const [emaPeriod, atrPeriod, multiplier] of [
  [1, 1, 1],
  [3, 5, 2],
  [5, 3, 0.5],
  [20, 10, 2],
] as const) {
  const warmupPeriod = Math.max(emaPeriod, atrPeriod);
  const length = 3 * warmupPeriod + 40;
  testIndicatorContract(
    `KeltnerChannel(${emaPeriod}, ${atrPeriod}, ${multiplier})`,
    () => new KeltnerChannel(emaPeriod, atrPeriod, multiplier),
    {
      warmupPeriod,
      inputs: randomBars(length, 7),
      corrections: randomBars(length, 11),
      badInputs: badBars(['high', 'low', 'close']),
    },
  );
}

const bands = (result: Bands): number[] => [result.middle, result.upper, result.lower];

/** The channel over a whole series: SMA-seeded EMA of closes ± multiplier · Wilder's ATR. */
function batchKeltner(
  bars: readonly RangeBar[],
  emaPeriod: number,
  atrPeriod: number,
  multiplier: number,
): (number[] | null)[] {
  const alpha = 2 / (emaPeriod + 1);
  let ema = bars.slice(0, emaPeriod).reduce((sum, bar) => sum + bar.close, 0) / emaPeriod;
  const ranges = bars.map(({ high, low }, i) => {
    const previous = bars[i - 1]?.close;
    if (previous === undefined) return high - low;
    return Math.max(high - low, Math.abs(high - previous), Math.abs(low - previous));
  });
  let atr = ranges.slice(0, atrPeriod).reduce((sum, x) => sum + x, 0) / atrPeriod;
  return bars.map((bar, i) => {
    if (i > emaPeriod - 1) ema += alpha * (bar.close - ema);
    if (i > atrPeriod - 1) atr = (atr * (atrPeriod - 1) + ranges[i]!) / atrPeriod;
    if (i < Math.max(emaPeriod, atrPeriod) - 1) return null;
    return [ema, ema + multiplier * atr, ema - multiplier * atr];
  });
}

/** technicalindicators' KeltnerChannels (EMA middle) through the reference interface. */
function tiKeltner(
  maPeriod: number,
  atrPeriod: number,
  multiplier: number,
): ReferenceIndicator<RangeBar, Bands> {
  const indicator = new TiKeltnerChannels({
    maPeriod,
    atrPeriod,
    multiplier,
    useSMA: false,
    high: [],
    low: [],
    close: [],
  });
  let last: Bands | undefined;
  return {
    add: (bar) => (last = indicator.nextValue(bar as never)),
    getResult: () => last ?? null,
  };
}

/** Bars after which (1 − rate)^bars < 1e-13: the seeds of two recursions no longer show. */
const decay = (rate: number): number => Math.ceil(Math.log(1e-13) / Math.log(1 - rate));

describe('KeltnerChannel', () => {
  it('puts the bands multiplier ATRs around the EMA of the close', () => {
    const bars = [
      { high: 11, low: 9, close: 10 }, // tr 2
      { high: 13, low: 11, close: 12 }, // tr 3: EMA(2) seed 11, ATR(2) 2.5
      { high: 12, low: 11, close: 11.5 }, // tr 1: EMA 11 + (2/3)(0.5), ATR 1.75
    ];
    const results = feed(new KeltnerChannel(2, 2, 2), bars);
    expect(results.slice(0, 2)).toEqual([null, { middle: 11, upper: 16, lower: 6 }]);
    const middle = 11 + (2 / 3) * 0.5;
    expect(bands(results[2]!)).toEqual([middle, middle + 3.5, middle - 3.5]);
  });

  it('waits for the longer of the two periods', () => {
    const bars = randomBars(10, 1);
    expect(feed(new KeltnerChannel(2, 4), bars).findIndex((x) => x !== null)).toBe(3);
    expect(feed(new KeltnerChannel(4, 2), bars).findIndex((x) => x !== null)).toBe(3);
    expect(new KeltnerChannel(7, 3).warmupPeriod).toBe(7);
  });

  it('returns a new frozen record on every update', () => {
    const results = feed(new KeltnerChannel(1, 1, 1), randomBars(2, 3));
    expect(Object.isFrozen(results[1])).toBe(true);
    expect(results[0]).not.toBe(results[1]);
  });

  it('defaults to a 20-bar EMA, a 10-bar ATR and 2 ATRs', () => {
    const channel = new KeltnerChannel();
    expect([channel.warmupPeriod, channel.multiplier]).toEqual([20, 2]);
  });

  it('rejects a bad period or multiplier, naming the parameter and the value', () => {
    expect(() => new KeltnerChannel(0)).toThrow(
      'KeltnerChannel ema period must be a positive integer, got 0',
    );
    expect(() => new KeltnerChannel(20, 2.5)).toThrow(
      'KeltnerChannel atr period must be a positive integer, got 2.5',
    );
    expect(() => new KeltnerChannel(20, 10, Number.POSITIVE_INFINITY)).toThrow(
      'KeltnerChannel multiplier must be a positive finite number, got Infinity',
    );
    expect(() => new KeltnerChannel(-1)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new KeltnerChannel().replace({ high: 2, low: 1, close: Number.NaN })).toThrow(
      'KeltnerChannel input close must be a finite number, got NaN',
    );
  });

  it('matches the batch formula on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const [emaPeriod, atrPeriod, multiplier] of [
      [1, 1, 1],
      [3, 7, 2],
      [20, 10, 2],
      [50, 14, 1.5],
    ] as const) {
      const expected = batchKeltner(bars, emaPeriod, atrPeriod, multiplier);
      const actual = feed(new KeltnerChannel(emaPeriod, atrPeriod, multiplier), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      let worst = 0;
      actual.forEach((result, i) => {
        if (result === null) return;
        bands(result).forEach(
          (value, k) => (worst = Math.max(worst, relativeError(value, expected[i]![k]!))),
        );
      });
      expect(worst).toBeLessThan(1e-9);
    }
  });

  // trading-signals' KeltnerChannels uses the same Wilder ATR but its EMA seeds with the first close
  // (reporting once `emaInterval` closes are in) where ours seeds with their simple mean. The same
  // recursion follows, so the gap shrinks by (1 − α) per bar: compare once that is below 1e-13.
  it('agrees with trading-signals KeltnerChannels on 10,000 random bars once the EMA seed has decayed', () => {
    const bars = randomBars(10_000, 42);
    for (const [emaPeriod, atrPeriod, multiplier] of [
      [3, 7, 2],
      [20, 10, 2],
      [50, 14, 1.5],
    ] as const) {
      const burnIn = emaPeriod + decay(2 / (emaPeriod + 1));
      const comparison = compareWithReference(
        new KeltnerChannel(emaPeriod, atrPeriod, multiplier),
        new ReferenceKeltnerChannels({ emaInterval: emaPeriod, atrInterval: atrPeriod, multiplier }),
        bars,
        { from: burnIn, select: bands, selectReference: bands },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - burnIn });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' KeltnerChannels (useSMA: false) seeds its EMA like ours, but its ATR has no
  // true range for the first bar: the ATR warms up one bar later (so the channel does too when
  // atrPeriod ≥ emaPeriod), seeded with true ranges 2…atrPeriod+1. Compare once that has decayed.
  it('agrees with technicalindicators KeltnerChannels on 10,000 random bars once its later ATR seed has decayed', () => {
    const bars = randomBars(10_000, 42);
    for (const [emaPeriod, atrPeriod, multiplier] of [
      [3, 7, 2],
      [20, 10, 2],
      [50, 14, 1.5],
    ] as const) {
      const burnIn = atrPeriod + decay(1 / atrPeriod);
      const comparison = compareWithReference(
        new KeltnerChannel(emaPeriod, atrPeriod, multiplier),
        tiKeltner(emaPeriod, atrPeriod, multiplier),
        bars,
        { from: burnIn, select: bands, selectReference: bands },
      );
      expect(comparison).toMatchObject({
        warmupMismatches: atrPeriod >= emaPeriod ? 1 : 0,
        compared: bars.length - burnIn,
      });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
