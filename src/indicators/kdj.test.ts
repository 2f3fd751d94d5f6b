import { Stochastic as TiStochastic } from 'technicalindicators';
import { StochasticOscillator } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  badBars,
  compareWithReference,
  feed,
  randomBars,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import type { RangeBar } from './atr.js';
import { KDJ, type KDJResult } from './kdj.js';

const contract = (period: number) => ({
  warmupPeriod: period,
  inputs: randomBars(3 * period + 40, 7),
  corrections: randomBars(3 * period + 40, 11),
  badInputs: badBars(['high', 'low', 'close']),
});
testIndicatorContract('KDJ(1)', () => new KDJ(1), contract(1));
testIndicatorContract('KDJ(3)', () => new KDJ(3), contract(3));
testIndicatorContract('KDJ()', () => new KDJ(), contract(9));

/** KDJ over a whole series, written out from its definition. */
function batchKdj(bars: readonly RangeBar[], period: number): (KDJResult | null)[] {
  let k = 50;
  let d = 50;
  return bars.map((bar, i) => {
    if (i + 1 < period) return null;
    const window = bars.slice(i + 1 - period, i + 1);
    const highest = Math.max(...window.map((b) => b.high));
    const lowest = Math.min(...window.map((b) => b.low));
    const rsv = highest === lowest ? 0 : ((bar.close - lowest) / (highest - lowest)) * 100;
    k = (2 / 3) * k + (1 / 3) * rsv;
    d = (2 / 3) * d + (1 / 3) * k;
    return { k, d, j: 3 * k - 2 * d };
  });
}

/**
 * A peer's raw stochastic (RSV) with the KDJ 1/3 smoothing applied here: the peers smooth with
 * simple moving averages instead, so only their unsmoothed %K is the same quantity.
 */
function smoothed(rsvOf: (bar: RangeBar) => number | null): ReferenceIndicator<RangeBar, KDJResult> {
  let k = 50;
  let d = 50;
  let result: KDJResult | null = null;
  return {
    add: (bar) => {
      const rsv = rsvOf(bar);
      if (rsv === null) return;
      k = (2 / 3) * k + (1 / 3) * rsv;
      d = (2 / 3) * d + (1 / 3) * k;
      result = { k, d, j: 3 * k - 2 * d };
    },
    getResult: () => result,
  };
}

const select = (r: KDJResult) => [r.k, r.d, r.j];

describe('KDJ', () => {
  it('smooths RSV into K and K into D by thirds from seeds of 50, with J = 3K − 2D', () => {
    const kdj = new KDJ(2);
    expect(kdj.update({ high: 10, low: 8, close: 9 })).toBeNull();
    // HH 12, LL 8: RSV = 100·(11 − 8)/4 = 75; K = (2·50 + 75)/3; D = (2·50 + K)/3.
    const first = kdj.update({ high: 12, low: 9, close: 11 })!;
    expect(first.k).toBeCloseTo(175 / 3, 12);
    expect(first.d).toBeCloseTo((100 + 175 / 3) / 3, 12);
    expect(first.j).toBeCloseTo(3 * first.k - 2 * first.d, 12);
    // HH 12, LL 9: RSV = 100·(9 − 9)/3 = 0.
    const second = kdj.update({ high: 11, low: 9, close: 9 })!;
    expect(second.k).toBeCloseTo((2 * first.k) / 3, 12);
    expect(second.d).toBeCloseTo((2 * first.d + second.k) / 3, 12);
    expect(Object.isFrozen(second)).toBe(true);
    expect(second).not.toBe(first);
  });

  it('takes RSV = 0 on a flat window, so K and D decay towards 0 from 50', () => {
    const flat = { high: 5, low: 5, close: 5 };
    const values = feed(new KDJ(2), [flat, flat, flat]);
    expect(values[0]).toBeNull();
    expect(values[1]!.k).toBeCloseTo(100 / 3, 12);
    expect(values[2]!.k).toBeCloseTo(200 / 9, 12);
  });

  it('defaults to a period of 9', () => {
    expect(new KDJ().warmupPeriod).toBe(9);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new KDJ(0)).toThrow('KDJ period must be a positive integer, got 0');
    expect(() => new KDJ(1.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself, the field and the value when a bar field is not finite', () => {
    expect(() => new KDJ().update({ high: 1, low: Number.NaN, close: 1 })).toThrow(
      'KDJ input low must be a finite number, got NaN',
    );
  });

  it('matches the batch formula on 10,000 random bars to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [1, 2, 9, 50]) {
      const expected = batchKdj(bars, period);
      const actual = feed(new KDJ(period), bars);
      expect(actual.map((x) => x === null)).toEqual(expected.map((x) => x === null));
      const errors = actual.flatMap((x, i) =>
        x === null ? [] : select(x).map((value, n) => relativeError(value, select(expected[i]!)[n]!)),
      );
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // trading-signals' StochasticOscillator (kSlowingPeriod 1, dPeriod 1) returns the raw %K
  // 100·(close − LL)/(HH − LL) as stochK (0 on a flat window): the RSV, smoothed here by thirds.
  it('agrees with trading-signals StochasticOscillator’s raw %K, smoothed by thirds, to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [1, 2, 9, 50]) {
      const peer = new StochasticOscillator({ kPeriod: period, kSlowingPeriod: 1, dPeriod: 1 });
      const reference = smoothed((bar) => (peer.add(bar), peer.getResult()?.stochK ?? null));
      const comparison = compareWithReference(new KDJ(period), reference, bars, {
        select,
        selectReference: select,
      });
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' Stochastic reports %K (same RSV, 0 when flat) and an SMA %D; with
  // signalPeriod 1 we take its k and smooth it by thirds here.
  it('agrees with technicalindicators Stochastic’s %K, smoothed by thirds, to 1e-9', () => {
    const bars = randomBars(10_000, 42);
    for (const period of [1, 2, 9, 50]) {
      const peer = new TiStochastic({ period, signalPeriod: 1, high: [], low: [], close: [] });
      // Its nextValue is typed as taking arrays but reads one { high, low, close } bar.
      const next = peer.nextValue.bind(peer) as unknown as (bar: RangeBar) => { k: number } | undefined;
      const reference = smoothed((bar) => next(bar)?.k ?? null);
      const comparison = compareWithReference(new KDJ(period), reference, bars, {
        select,
        selectReference: select,
      });
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: bars.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});

describe('KDJ bar consistency', () => {
  it('refuses a close above the high instead of a %K above 100', () => {
    expect(() => new KDJ(3).update({ high: 10, low: 8, close: 12 })).toThrow(
      'KDJ input is not a consistent bar: close 12 is outside [low 8, high 10]',
    );
  });
});
