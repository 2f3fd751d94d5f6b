import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import { HestonGenerator } from './heston.js';
import type { HestonOptions } from './heston-options.js';
import { batchMeanOf, errorOf, expectNear, meanOf } from './statistics.test-kit.js';

const DAY = 86_400;

describe('HestonGenerator', () => {
  it('fills in documented defaults and steps in years of 365 days', () => {
    const market = new HestonGenerator({ seed: 1 });
    expect(market.options).toEqual({
      seed: 1,
      startPrice: 100,
      mu: 0,
      v0: 0.04,
      kappa: 2,
      theta: 0.04,
      xi: 0.3,
      rho: -0.7,
      interval: 60,
      stepsPerBar: 4,
      baseVolume: 1_000,
    });
    expect(market.dt).toBe(60 / 4 / (365 * 24 * 3600));
    expect(new HestonGenerator({ seed: 1, interval: DAY, stepsPerBar: 1 }).dt).toBe(1 / 365);
    market.bars(10);
    expect(market.time).toBeCloseTo(600 / (365 * 24 * 3600), 15);
  });

  it('reports whether the Feller condition 2κθ ≥ ξ² holds', () => {
    expect(new HestonGenerator({ seed: 1 }).fellerSatisfied).toBe(true);
    expect(new HestonGenerator({ seed: 1, kappa: 1, theta: 0.04, xi: 0.5 }).fellerSatisfied).toBe(false);
  });

  it('gives the same bars for the same seed, different bars for another, and again after reset', () => {
    const market = new HestonGenerator({ seed: 42 });
    const bars = market.bars(1_000);
    expect(new HestonGenerator({ seed: 42 }).bars(1_000)).toEqual(bars);
    expect(new HestonGenerator({ seed: 43 }).bars(1_000)).not.toEqual(bars);
    market.reset();
    expect([...market.bars(400), market.nextBar(), ...market.bars(599)]).toEqual(bars);
    expect(market.time).toBeCloseTo((1_000 * 60) / (365 * 24 * 3600), 12);
  });

  it('chains bars with the OHLC invariants, even when the variance touches zero', () => {
    // 2κθ = 0.08 < ξ² = 1: the Euler variance often goes negative and is truncated.
    const market = new HestonGenerator({ seed: 7, startPrice: 250, interval: DAY, kappa: 1, xi: 1 });
    let sawNegative = false;
    const bars = Array.from({ length: 5_000 }, () => {
      const bar = market.nextBar();
      sawNegative ||= market.variance < 0;
      return bar;
    });
    expect(sawNegative).toBe(true);
    const broken = bars.filter(
      (bar, k) =>
        bar.open !== (k === 0 ? 250 : bars[k - 1]!.close) ||
        !(bar.low <= Math.min(bar.open, bar.close)) ||
        !(bar.high >= Math.max(bar.open, bar.close)) ||
        !(bar.low > 0) ||
        !Number.isFinite(bar.high) ||
        !(bar.volume > 0),
    );
    expect(broken).toEqual([]);
  });

  // 4,000 independent paths of daily Euler steps from v0 = 0.09 towards θ = 0.04.
  describe('across 4,000 seeded paths', () => {
    const options = {
      interval: DAY,
      stepsPerBar: 1,
      v0: 0.09,
      kappa: 2,
      theta: 0.04,
      xi: 0.3,
      rho: -0.7,
      mu: 0.1,
    };
    const checkpoints = [91, 182, 365];
    const paths = 4_000;
    const variances = checkpoints.map(() => new Float64Array(paths));
    const finalPrices = new Float64Array(paths);

    beforeAll(() => {
      for (let path = 0; path < paths; path += 1) {
        const market = new HestonGenerator({ seed: 10_000 + path, ...options });
        for (let bar = 1; bar <= 365; bar += 1) {
          market.nextBar();
          const checkpoint = checkpoints.indexOf(bar);
          if (checkpoint >= 0) variances[checkpoint]![path] = market.variance;
        }
        finalPrices[path] = market.lastPrice;
      }
    });

    it.each(checkpoints.map((bar, i) => [bar, i] as const))(
      'has mean variance θ + (v0 − θ)e^{−κt} after %i days',
      (bar, i) => {
        const t = bar / 365;
        // The Euler mean θ + (v0 − θ)(1 − κ dt)^n differs from this by < 6e-5, a tenth of the SE.
        expectNear(meanOf(variances[i]!), 0.04 + 0.05 * Math.exp(-2 * t), 0.02);
      },
    );

    it('has mean price S0·e^{μT} after a year', () => {
      expectNear(meanOf(finalPrices), 100 * Math.exp(0.1), 0.01);
    });
  });

  it('has a time-average variance of θ over 2,000 years of daily steps', () => {
    const market = new HestonGenerator({ seed: 5, interval: DAY, stepsPerBar: 1, v0: 0.01, theta: 0.05 });
    const variances = new Float64Array(730_000);
    for (let step = 0; step < variances.length; step += 1) {
      market.nextBar();
      variances[step] = market.variance;
    }
    // 50 batches of 40 years, each ≫ the correlation time 1/κ = 0.5 year: nearly independent.
    expectNear(batchMeanOf(variances, 50), 0.05, 0.03);
  });

  it('correlates price returns with variance changes by ρ', () => {
    const market = new HestonGenerator({ seed: 9, interval: 3_600, stepsPerBar: 1, rho: -0.6 });
    const returns: number[] = [];
    const changes: number[] = [];
    let variance = market.variance;
    for (let step = 0; step < 100_000; step += 1) {
      const bar = market.nextBar();
      returns.push(Math.log(bar.close / bar.open));
      changes.push(market.variance - variance);
      variance = market.variance;
    }
    const [mr, mc] = [meanOf(returns).value, meanOf(changes).value];
    let cov = 0;
    let vr = 0;
    let vc = 0;
    returns.forEach((r, i) => {
      cov += (r - mr) * (changes[i]! - mc);
      vr += (r - mr) ** 2;
      vc += (changes[i]! - mc) ** 2;
    });
    // Standard error of a sample correlation: (1 − ρ²)/√n ≈ 0.002.
    expect(Math.abs(cov / Math.sqrt(vr * vc) + 0.6)).toBeLessThan(0.01);
  });

  it('rejects bad options, naming every bad field', () => {
    const error = errorOf<QmtlError>(
      () =>
        new HestonGenerator({
          seed: 1.5,
          startPrice: 0,
          mu: Number.NaN,
          v0: -0.01,
          kappa: 0,
          theta: -0.04,
          xi: 0,
          rho: -1.5,
          interval: 0.5,
          stepsPerBar: 0,
          baseVolume: Number.POSITIVE_INFINITY,
        }),
    );
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    const expected = [
      'seed must be a safe integer, got 1.5',
      'startPrice must be a finite number > 0, got 0',
      'mu must be a finite number, got NaN',
      'v0 must be a finite number >= 0, got -0.01',
      'kappa must be a finite number > 0, got 0',
      'theta must be a finite number > 0, got -0.04',
      'xi must be a finite number > 0, got 0',
      'rho must be a finite number in [-1, 1], got -1.5',
      'interval must be a positive integer number of seconds, got 0.5',
      'stepsPerBar must be a positive integer, got 0',
      'baseVolume must be a finite number > 0, got Infinity',
    ];
    expect(error.problems.map((problem) => problem.message)).toEqual(expected);
    for (const text of expected) expect(error.message).toContain(text);
  });

  it.each<[string, Partial<HestonOptions>]>([
    ['rho', { rho: 1.0001 }],
    ['v0', { v0: Number.NaN }],
    ['interval', { interval: -60 }],
  ])('rejects a bad %s', (field, options) => {
    expect(() => new HestonGenerator({ seed: 1, ...options })).toThrow(`${field} must be`);
  });

  it('accepts the edge values v0 = 0 and ρ = ±1', () => {
    const market = new HestonGenerator({ seed: 1, v0: 0, rho: 1 });
    expect(market.bars(100).every((bar) => bar.close > 0)).toBe(true);
    expect(() => new HestonGenerator({ seed: 1, rho: -1 })).not.toThrow();
  });
});
