import { BollingerBands as TiBollingerBands } from 'technicalindicators';
import { BollingerBands as ReferenceBollingerBands } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { BollingerBands, type Bands } from './bollinger-bands.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  relativeError,
  testIndicatorContract,
  type ReferenceIndicator,
} from './indicator-contract.test-kit.js';

testIndicatorContract('BollingerBands(1)', () => new BollingerBands(1), { warmupPeriod: 1 });
testIndicatorContract('BollingerBands(2, 1)', () => new BollingerBands(2, 1), { warmupPeriod: 2 });
testIndicatorContract('BollingerBands(5, 0.5)', () => new BollingerBands(5, 0.5), { warmupPeriod: 5 });
testIndicatorContract('BollingerBands()', () => new BollingerBands(), { warmupPeriod: 20 });

const bands = (result: Bands): number[] => [result.middle, result.upper, result.lower];

/** The bands of the `period` inputs ending at `end`: mean, then Σ(x − mean)²/period (two passes). */
function batchBands(inputs: readonly number[], end: number, period: number, multiplier: number): number[] {
  const window = inputs.slice(end - period + 1, end + 1);
  const mean = window.reduce((sum, x) => sum + x, 0) / period;
  const std = Math.sqrt(window.reduce((sum, x) => sum + (x - mean) ** 2, 0) / period);
  return [mean, mean + multiplier * std, mean - multiplier * std];
}

/** Worst relative error of the bands over `inputs` against {@link batchBands}, at every `stride`th input. */
function worstAgainstBatch(
  inputs: readonly number[],
  period: number,
  multiplier: number,
  stride = 1,
): number {
  const indicator = new BollingerBands(period, multiplier);
  let worst = 0;
  inputs.forEach((x, i) => {
    const result = indicator.update(x);
    if (i < period - 1 || (i % stride !== 0 && i !== inputs.length - 1)) return;
    const expected = batchBands(inputs, i, period, multiplier);
    bands(result!).forEach((value, k) => (worst = Math.max(worst, relativeError(value, expected[k]!))));
  });
  return worst;
}

/** The width `upper − middle` relative error; the bands' own error hides it when σ ≪ price. */
function worstWidthError(inputs: readonly number[], period: number): number {
  const indicator = new BollingerBands(period, 1);
  let worst = 0;
  inputs.forEach((x, i) => {
    const result = indicator.update(x);
    if (i < period - 1) return;
    const [middle, upper] = batchBands(inputs, i, period, 1) as [number, number];
    worst = Math.max(worst, relativeError(result!.upper - result!.middle, upper - middle));
  });
  return worst;
}

/** technicalindicators' BollingerBands through the reference interface. */
function tiBollinger(period: number, stdDev: number): ReferenceIndicator<number, Bands> {
  const indicator = new TiBollingerBands({ period, stdDev, values: [] });
  let last: Bands | undefined;
  return {
    add: (x) => (last = indicator.nextValue(x)),
    getResult: () => last ?? null,
  };
}

describe('BollingerBands', () => {
  it('puts the bands multiplier population standard deviations around the simple mean', () => {
    const result = feed(new BollingerBands(4, 2), [1, 2, 3, 4]);
    expect(result.slice(0, 3)).toEqual([null, null, null]);
    // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over 4 (not 3): σ = √1.25.
    expect(result[3]!.middle).toBe(2.5);
    expect(result[3]!.upper).toBeCloseTo(2.5 + 2 * Math.sqrt(1.25), 14);
    expect(result[3]!.lower).toBeCloseTo(2.5 - 2 * Math.sqrt(1.25), 14);
    expect(new BollingerBands(2, 1).update(3)).toBeNull();
  });

  it('slides the window: the oldest input leaves it', () => {
    const result = feed(new BollingerBands(2, 3), [10, 2, 4, 4]);
    expect(result.slice(1).map((x) => bands(x!))).toEqual([
      [6, 18, -6],
      [3, 6, 0],
      [4, 4, 4],
    ]);
  });

  it('collapses the bands onto the mean on a flat series and with period 1', () => {
    expect(feed(new BollingerBands(3), [1e5, 1e5, 1e5, 1e5]).at(-1)).toEqual({
      middle: 1e5,
      upper: 1e5,
      lower: 1e5,
    });
    expect(feed(new BollingerBands(1), [3, 0.1, 7]).map((x) => bands(x!))).toEqual([
      [3, 3, 3],
      [0.1, 0.1, 0.1],
      [7, 7, 7],
    ]);
  });

  it('returns a new frozen record on every update', () => {
    const indicator = new BollingerBands(2);
    const first = feed(indicator, [1, 2, 3]);
    expect(Object.isFrozen(first[2])).toBe(true);
    expect(first[1]).not.toBe(first[2]);
    expect(first[1]).toEqual({ middle: 1.5, upper: 2.5, lower: 0.5 });
  });

  it('defaults to Bollinger’s 20 periods and 2 standard deviations', () => {
    const indicator = new BollingerBands();
    expect([indicator.warmupPeriod, indicator.multiplier]).toEqual([20, 2]);
  });

  it('rejects a bad period or multiplier, naming the parameter and the value', () => {
    expect(() => new BollingerBands(0)).toThrow('BollingerBands period must be a positive integer, got 0');
    expect(() => new BollingerBands(20, 0)).toThrow(
      'BollingerBands multiplier must be a positive finite number, got 0',
    );
    expect(() => new BollingerBands(20, Number.NaN)).toThrow('got NaN');
    expect(() => new BollingerBands(20, -2)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new BollingerBands().update(Number.NaN)).toThrow(
      'BollingerBands input must be a finite number, got NaN',
    );
  });

  it('matches the batch two-pass formula on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const [period, multiplier] of [
      [1, 2],
      [2, 2],
      [20, 2],
      [50, 1.5],
    ] as const) {
      expect(worstAgainstBatch(inputs, period, multiplier)).toBeLessThan(1e-9);
    }
  });

  // Prices near 1e5 moving by dimes: Σx² ≈ 2e11 is held to ~3e-5 and drifts as the window slides,
  // while the window's Σ(x − mean)² can be as small as ~0.03. A running `Σx² − (Σx)²/n` loses most
  // of its digits here. (The check reads σ from `upper − middle`, which is itself rounded to
  // ulp(1e5) ≈ 1.5e-11, i.e. to ~2e-10 of the narrowest band here.)
  it('keeps the standard deviation to 1e-9 on prices near 1e5 that move by dimes', () => {
    const inputs = randomWalk(200_000, 3).map((x) => 1e5 + (x - 100) * 0.1);
    const period = 20;
    expect(worstWidthError(inputs, period)).toBeLessThan(1e-9);
    expect(worstAgainstBatch(inputs, period, 2, 97)).toBeLessThan(1e-9);
    // The same series through a running sum of squares, to show it is a demanding one.
    let sum = 0;
    let squares = 0;
    let worstNaive = 0;
    inputs.forEach((x, i) => {
      sum += x;
      squares += x * x;
      if (i >= period) {
        sum -= inputs[i - period]!;
        squares -= inputs[i - period]! ** 2;
      }
      if (i < period - 1) return;
      const naive = Math.sqrt(Math.max(0, squares / period - (sum / period) ** 2));
      const [middle, upper] = batchBands(inputs, i, period, 1) as [number, number];
      worstNaive = Math.max(worstNaive, relativeError(naive, upper - middle));
    });
    expect(worstNaive).toBeGreaterThan(1e-2);
  });

  // One bad tick of 1e12 among prices near 120: its rounding error in the sum of squares (~ε·1e24)
  // used to outlive it until the ring wrapped (BB(20) upper 5293.7 instead of 164.4, BB(2) σ = 0).
  it('keeps its digits after an outlier has left the window', () => {
    for (const spike of [1e4, 1e8, 1e12]) {
      const inputs = randomWalk(700, 11).map((x) => 120 + (x - 100) * 0.05);
      inputs[500] = spike;
      for (const [period, multiplier] of [
        [20, 2],
        [5, 1.5],
        [2, 2],
      ] as const) {
        const indicator = new BollingerBands(period, multiplier);
        let worstMiddle = 0;
        let worstWidth = 0;
        inputs.forEach((x, i) => {
          const result = indicator.update(x)!;
          if (i < 500 + period) return;
          const [middle, upper] = batchBands(inputs, i, period, multiplier) as [number, number];
          worstMiddle = Math.max(worstMiddle, relativeError(result.middle, middle));
          worstWidth = Math.max(worstWidth, relativeError(result.upper - result.middle, upper - middle));
        });
        expect(worstMiddle, `BB(${period}) middle after ${spike}`).toBeLessThan(1e-15);
        expect(worstWidth, `BB(${period}) width after ${spike}`).toBeLessThan(1e-12);
      }
    }
  });

  // The sum of squares slid down to 0 keeps a residue of its rounding (width 1.2e-9 here) unless
  // the window is summed again.
  it('gives exactly zero width once the window is flat, between two ring wraps', () => {
    const indicator = new BollingerBands(5, 2);
    for (const x of [120.1, 119.7, 120.3, 119.9, 120.2, 120.6]) indicator.update(x);
    for (let i = 0; i < 5; i++) indicator.update(120.5);
    expect(indicator.result).toEqual({ middle: 120.5, upper: 120.5, lower: 120.5 });
  });

  it('does not drift over 1,000,000 updates of a large-offset series', () => {
    const inputs = randomWalk(1_000_000, 5).map((x) => 1e5 + x * 10);
    expect(worstAgainstBatch(inputs, 30, 2, 9_973)).toBeLessThan(1e-9);
  });

  // trading-signals' BollingerBands takes the mean and the population standard deviation of the
  // last `interval` prices (two passes over an array each update): the same definition as ours.
  it('agrees with trading-signals BollingerBands on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const [period, multiplier] of [
      [1, 2],
      [2, 2],
      [20, 2],
      [50, 1.5],
    ] as const) {
      const comparison = compareWithReference(
        new BollingerBands(period, multiplier),
        new ReferenceBollingerBands(period, multiplier),
        inputs,
        { select: bands, selectReference: bands },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  // technicalindicators' BollingerBands also uses the population standard deviation (its SD divides
  // by `period`); it adds a %b field, which we leave out.
  it('agrees with technicalindicators BollingerBands on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const [period, multiplier] of [
      [2, 2],
      [20, 2],
      [50, 1.5],
    ] as const) {
      const comparison = compareWithReference(
        new BollingerBands(period, multiplier),
        tiBollinger(period, multiplier),
        inputs,
        { select: bands, selectReference: bands },
      );
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period + 1 });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });
});
