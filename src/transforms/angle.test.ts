import { LinearRegression } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
} from '../indicators/indicator-contract.test-kit.js';
import { Angle } from './angle.js';

testIndicatorContract('Angle(2)', () => new Angle(2), { warmupPeriod: 2 });
testIndicatorContract('Angle(3, radians)', () => new Angle(3, 'radians'), { warmupPeriod: 3 });
testIndicatorContract('Angle()', () => new Angle(), { warmupPeriod: 14 });

/** Least-squares slope of `ys` against x = 0, 1, …, two-pass (deviations from the mean). */
function batchSlope(ys: readonly number[]): number {
  const n = ys.length;
  const mean = ys.reduce((sum, y) => sum + y, 0) / n;
  const centre = (n - 1) / 2;
  let numerator = 0;
  let denominator = 0;
  ys.forEach((y, k) => {
    numerator += (k - centre) * (y - mean);
    denominator += (k - centre) ** 2;
  });
  return numerator / denominator;
}

const DEGREES = 180 / Math.PI;

/** Relative errors of `actual` (fed `inputs`) against batch least-squares angles, from index `from`. */
function errorsAgainstBatch(
  inputs: readonly number[],
  period: number,
  actual: readonly (number | null)[],
  from = 0,
): number[] {
  expect(actual.slice(0, period - 1).every((value) => value === null)).toBe(true);
  const errors: number[] = [];
  for (let i = Math.max(from, period - 1); i < inputs.length; i++) {
    const expected = Math.atan(batchSlope(inputs.slice(i + 1 - period, i + 1))) * DEGREES;
    errors.push(relativeError(actual[i]!, expected));
  }
  return errors;
}

describe('Angle', () => {
  it('gives the angle of the least-squares line through the last period inputs', () => {
    const values = feed(new Angle(3), [1, 2, 3, 3, 3, 1]);
    expect(values.slice(0, 3)).toEqual([null, null, 45]);
    expect(values[3]).toBeCloseTo(Math.atan(0.5) * DEGREES, 12);
    expect(values[4]).toBe(0);
    expect(values[5]).toBe(-45);
    expect(feed(new Angle(2, 'radians'), [0, Math.sqrt(3)])[1]).toBeCloseTo(Math.PI / 3, 12);
  });

  it('ignores the level of the series: the same steps at 1e6 give the same angles', () => {
    const steps = randomWalk(500, 5).map((x) => x - 100);
    const low = feed(new Angle(10), steps);
    const high = feed(
      new Angle(10),
      steps.map((x) => x + 1e6),
    );
    high.forEach((value, i) => {
      if (value === null) expect(low[i]).toBeNull();
      else expect(Math.abs(value - low[i]!)).toBeLessThan(1e-7);
    });
  });

  it('defaults to a period of 14 in degrees', () => {
    const angle = new Angle();
    expect([angle.warmupPeriod, angle.unit]).toEqual([14, 'degrees']);
  });

  it('rejects a period below 2 or fractional and an unknown unit', () => {
    expect(() => new Angle(1)).toThrow('Angle period must be an integer ≥ 2, got 1');
    expect(() => new Angle(2.5)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => new Angle(14, 'gradians' as never)).toThrow(
      'Angle unit must be "degrees" or "radians", got "gradians"',
    );
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new Angle().update(Number.NaN)).toThrow('Angle input must be a finite number, got NaN');
  });

  it('matches a batch least-squares fit over every window of a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [2, 3, 14, 100, 1_000]) {
      const errors = errorsAgainstBatch(inputs, period, feed(new Angle(period), inputs));
      expect(errors).toHaveLength(inputs.length - period + 1);
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  it('does not drift over a long run: 1,000,000 inputs at a level of 1e4, checked against batch fits', () => {
    const inputs = randomWalk(1_000_000, 8).map((x) => x + 1e4);
    for (const period of [14, 365]) {
      const angle = new Angle(period);
      const actual = feed(angle, inputs);
      // Every window near the end, after ~10⁶ sliding updates.
      const errors = errorsAgainstBatch(inputs, period, actual, inputs.length - 2_000);
      expect(errors).toHaveLength(2_000);
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });

  // One bad tick of 1e12 among prices near 120: its rounding error in the sliding sums (~ε·1e12·period)
  // used to outlive it until the ring wrapped (Angle(30) 0.04475° instead of 0.04506°).
  it('keeps its digits after an outlier has left the window', () => {
    for (const spike of [1e6, 1e12]) {
      const inputs = randomWalk(700, 11).map((x) => 120 + (x - 100) * 0.05);
      inputs[500] = spike;
      for (const period of [2, 5, 14, 30]) {
        const errors = errorsAgainstBatch(inputs, period, feed(new Angle(period), inputs), 500 + period);
        expect(Math.max(...errors), `Angle(${period}) after ${spike}`).toBeLessThan(1e-12);
      }
    }
  });

  // A slope > 0 test must not see sign noise: a flat window gives 0, not ±1e-14°, also when it
  // turned flat between two ring wraps.
  it('gives exactly 0 on a flat window, also right after moving inputs', () => {
    for (const period of [3, 14, 30]) {
      for (let seed = 1; seed <= 5; seed++) {
        for (let moving = 2 * period; moving < 2 * period + 3; moving++) {
          const inputs = [...randomWalk(moving, seed), ...Array<number>(2 * period).fill(101.3)];
          const actual = feed(new Angle(period), inputs).slice(moving + period - 1);
          expect(actual, `Angle(${period}), seed ${seed}, ${moving} moving inputs`).toEqual(
            actual.map(() => 0),
          );
        }
      }
    }
  });

  // trading-signals' LinearRegression fits the same line (x = 0 … n−1) and reports its slope.
  it('agrees with trading-signals LinearRegression’s slope (as an angle) to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [2, 3, 14, 100]) {
      const comparison = compareWithReference(
        new Angle(period, 'radians'),
        new LinearRegression(period),
        inputs,
        {
          selectReference: ({ slope }) => [Math.atan(slope)],
        },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
