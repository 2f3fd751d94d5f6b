import { SD as TiSD } from 'technicalindicators';
import { BollingerBands as ReferenceBollingerBands, getStandardDeviation } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';
import { RoughVolatility } from './rough-volatility.js';

/** Positive prices: 100·exp of a scaled random walk (log returns ~ N(0, 0.01²)). */
const prices = (length: number, seed: number): number[] =>
  randomWalk(length, seed).map((x) => 100 * Math.exp((x - 100) / 100));

for (const period of [1, 2, 5, 20]) {
  testIndicatorContract(`RoughVolatility(${period})`, () => new RoughVolatility(period), {
    warmupPeriod: period + 1,
    inputs: prices(3 * period + 40, 7),
    corrections: prices(3 * period + 40, 11),
    badInputs: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1],
  });
}

/**
 * The log returns of `values`, as `ln(1 + (x − y)/y)`: x − y is exact for nearby prices, so this is
 * within ~2 ulps of the exact return; `Math.log(x / y)` is off by up to ε absolute, i.e. a large
 * relative error on a small return (see the 1e5-level test).
 */
const logReturns = (values: readonly number[]): number[] =>
  values.slice(1).map((x, i) => Math.log1p((x - values[i]!) / values[i]!));

/**
 * ln(x/y) for x within 1e-3 of y, to ~1e-30 relative: u = (x − y)/y in double-double (x − y is
 * exact there; Dekker's product gives the division's remainder exactly), then ln(1 + u) as the
 * series u − u²/2 + u³/3 − u⁴/4 (the next term, u⁵/5, is below 1e-12 of u⁴).
 */
function exactSmallLogReturn(x: number, y: number): number {
  const difference = x - y;
  const high = difference / y;
  const split = (a: number): [number, number] => {
    const c = 134_217_729 * a;
    const upper = c - (c - a);
    return [upper, a - upper];
  };
  const [hHigh, hLow] = split(high);
  const [yHigh, yLow] = split(y);
  const product = high * y;
  const productLow = hHigh * yHigh - product + hHigh * yLow + hLow * yHigh + hLow * yLow;
  const low = (difference - product - productLow) / y;
  return high + (low - high ** 2 / 2 + high ** 3 / 3 - high ** 4 / 4);
}

/** Population standard deviation of `values`, two-pass. */
function twoPassStd(values: readonly number[]): number {
  const mean = values.reduce((sum, x) => sum + x, 0) / values.length;
  return Math.sqrt(values.reduce((sum, x) => sum + (x - mean) ** 2, 0) / values.length);
}

/** A peer's rolling standard deviation fed the log returns of the prices we are fed. */
function onLogReturns(add: (logReturn: number) => void, result: () => number | null): ReferenceIndicator {
  let last: number | null = null;
  return {
    add: (price) => {
      if (last !== null) add(Math.log(price / last));
      last = price;
    },
    getResult: result,
  };
}

describe('RoughVolatility', () => {
  it('takes the population standard deviation of the last period log returns', () => {
    const values = feed(new RoughVolatility(2), [100, 110, 99, 99]);
    expect(values.slice(0, 2)).toEqual([null, null]);
    // Two returns a and b: population std |a − b|/2.
    expect(values[2]).toBeCloseTo(Math.abs(Math.log(1.1) - Math.log(0.9)) / 2, 15);
    expect(values[3]).toBeCloseTo(Math.abs(Math.log(0.9)) / 2, 15);
  });

  it('is 0 for one return, and exactly 0 on a flat or steadily growing series', () => {
    expect(feed(new RoughVolatility(1), [1, 2, 3])).toEqual([null, 0, 0]);
    expect(feed(new RoughVolatility(3), Array(50).fill(7)).at(-1)).toBe(0);
    const growing = Array.from({ length: 50 }, (_, i) => 2 ** i);
    expect(new RoughVolatility(4).warmupPeriod).toBe(5);
    expect(feed(new RoughVolatility(4), growing).at(-1)).toBe(0);
  });

  // The sums slid over earlier, different returns keep a residue (~1e-18 here) unless identical
  // returns are recognised as such.
  it('is exactly 0 once the last period returns are identical, after varying ones, and for period 1', () => {
    for (const period of [1, 3, 20]) {
      const input = [...prices(2 * period + 7, 58)];
      for (let i = 0; i < 2 * period; i++) input.push(input.at(-1)! * 2);
      const values = feed(new RoughVolatility(period), input);
      const tail = values.slice(input.length - period);
      expect(tail, `RoughVolatility(${period})`).toEqual(tail.map(() => 0));
      const varying = feed(new RoughVolatility(period), prices(100, 59)).slice(period);
      if (period === 1) expect(varying).toEqual(varying.map(() => 0));
    }
  });

  it('defaults to 20 returns', () => {
    expect(new RoughVolatility().warmupPeriod).toBe(21);
  });

  it('matches the two-pass formula on 10,000 prices to 1e-9', () => {
    const input = prices(10_000, 51);
    const returns = logReturns(input);
    for (const period of [1, 2, 14, 50]) {
      const values = feed(new RoughVolatility(period), input);
      let worst = 0;
      for (let i = period; i < input.length; i += 1) {
        const expected = twoPassStd(returns.slice(i - period, i));
        worst = Math.max(worst, period === 1 ? Math.abs(values[i]!) : relativeError(values[i]!, expected));
      }
      expect(worst, `RoughVolatility(${period})`).toBeLessThan(1e-9);
    }
  });

  // Neither peer has this indicator; both have a rolling population standard deviation, fed here
  // the log returns. trading-signals' is the distance from the middle to the upper band of
  // BollingerBands(n, 1) (both computed two-pass over the window).
  it('agrees with trading-signals BollingerBands on log returns to 1e-9', () => {
    const input = prices(10_000, 52);
    for (const period of [2, 20, 50]) {
      const bands = new ReferenceBollingerBands(period, 1);
      const reference = onLogReturns(
        (r) => bands.add(r),
        () => {
          const result = bands.getResult();
          return result === null ? null : result.upper - result.middle;
        },
      );
      const comparison = compareWithReference(new RoughVolatility(period), reference, input);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: input.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  it('agrees with technicalindicators SD on log returns to 1e-9', () => {
    const input = prices(10_000, 53);
    for (const period of [2, 20, 50]) {
      const sd = new TiSD({ period, values: [] });
      let last: number | null = null;
      const reference = onLogReturns(
        (r) => (last = sd.nextValue(r) ?? null),
        () => last,
      );
      const comparison = compareWithReference(new RoughVolatility(period), reference, input);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: input.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  it('does not drift over 1,000,000 prices', () => {
    const input = prices(1_000_000, 54);
    const period = 30;
    const vol = new RoughVolatility(period);
    let worst = 0;
    input.forEach((x, i) => {
      const value = vol.update(x);
      if (i < period || (i % 9_973 !== 0 && i !== input.length - 1)) return;
      worst = Math.max(
        worst,
        relativeError(value!, getStandardDeviation(logReturns(input.slice(i - period, i + 1)))),
      );
    });
    expect(worst).toBeLessThan(1e-9);
  });

  it('keeps full precision when a quiet stretch follows a wild one', () => {
    // Returns of up to ±50%, then of up to ±1e-6: a sliding sum in plain doubles keeps rounding of
    // the wild stretch (≈ ε·0.25 per step) far above the quiet windows' Σ (r − r̄)² ≈ 1e-11.
    const walk = randomWalk(20_000, 55);
    const input: number[] = [100];
    walk.forEach((x, i) => {
      const step = i < 10_000 ? 0.5 : 1e-6;
      input.push(input.at(-1)! * Math.exp(step * Math.tanh(x - (walk[i - 1] ?? 100))));
    });
    const period = 25;
    const values = feed(new RoughVolatility(period), input);
    const returns = logReturns(input);
    let worst = 0;
    for (let i = input.length - 500; i < input.length; i += 1) {
      worst = Math.max(worst, relativeError(values[i]!, twoPassStd(returns.slice(i - period, i))));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('keeps full precision when the returns are large next to their spread', () => {
    // Steady 1% growth with return noise of ~1e-9 (σ/r ≈ 1e-7): a Welford slide of the mean and the
    // squared deviations in plain doubles ends up 7e-8 off on this series.
    const noise = randomWalk(5_001, 56);
    const input = [100];
    for (let i = 1; i < noise.length; i += 1) {
      input.push(input.at(-1)! * Math.exp(0.01 + 1e-9 * (noise[i]! - noise[i - 1]!)));
    }
    const period = 20;
    const values = feed(new RoughVolatility(period), input);
    const returns = logReturns(input);
    let worst = 0;
    for (let i = period; i < input.length; i += 1) {
      worst = Math.max(worst, relativeError(values[i]!, twoPassStd(returns.slice(i - period, i))));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  // Prices near 1e5 moving by cents: returns of ~1e-7, which ln(x/y) gets only to ~1e-9 of
  // themselves (the quotient is rounded to ε), so σ was up to 4.9e-10 off (now 4.6e-16).
  it('takes small returns to full precision: prices near 1e5 moving by cents', () => {
    const input = randomWalk(5_000, 57).map((x) => 1e5 + Math.round((x - 100) * 5) / 100);
    const returns = input.slice(1).map((x, i) => exactSmallLogReturn(x, input[i]!));
    // (With 2 or 3 returns σ can be ~1e-7 of the returns, which no double input pins down.)
    for (const period of [5, 20]) {
      const values = feed(new RoughVolatility(period), input);
      let worst = 0;
      for (let i = period; i < input.length; i += 1) {
        const expected = twoPassStd(returns.slice(i - period, i));
        if (expected > 0) worst = Math.max(worst, relativeError(values[i]!, expected));
      }
      expect(worst, `RoughVolatility(${period})`).toBeLessThan(1e-14);
    }
  });

  it('rejects a price that is not positive, naming itself and the value', () => {
    const vol = new RoughVolatility(3);
    expect(() => vol.update(0)).toThrow('RoughVolatility input must be a positive finite price, got 0');
    expect(() => vol.update(-2)).toThrow('got -2');
    expect(() => vol.replace(Number.NaN)).toThrow('got NaN');
    expect(() => vol.update('1' as never)).toThrow('got "1"');
    expect(vol.result).toBeNull();
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new RoughVolatility(0)).toThrow('RoughVolatility period must be a positive integer, got 0');
    expect(() => new RoughVolatility(1.5)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });
});
