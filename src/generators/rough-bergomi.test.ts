import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import { RoughBergomiGenerator } from './rough-bergomi.js';
import type { RoughBergomiOptions } from './rough-bergomi-options.js';
import { errorOf, expectNear, meanOf } from './statistics.test-kit.js';

const DAY = 86_400;

/**
 * Cov(Y_s, Y_t) = 2H ∫₀ˢ (t − u)^α (s − u)^α du for s < t, α = H − ½, by Simpson's rule after
 * substituting v = s − u = w^{1/(α+1)}, which removes the singularity at v = 0.
 */
function volterraCovariance(hurst: number, s: number, t: number): number {
  const alpha = hurst - 0.5;
  const upper = s ** (alpha + 1);
  const intervals = 20_000;
  const h = upper / intervals;
  const f = (w: number): number => (t - s + w ** (1 / (alpha + 1))) ** alpha;
  let sum = f(0) + f(upper);
  for (let i = 1; i < intervals; i += 1) sum += (i % 2 === 1 ? 4 : 2) * f(i * h);
  return ((2 * hurst) / (alpha + 1)) * ((sum * h) / 3);
}

/** Runs `steps` one-step bars, calling `observe` after each with the step number (1-based). */
function run(market: RoughBergomiGenerator, steps: number, observe: (step: number) => void): void {
  for (let step = 1; step <= steps; step += 1) {
    market.nextBar();
    observe(step);
  }
}

describe('RoughBergomiGenerator', () => {
  it('fills in documented defaults and steps in years of 365 days', () => {
    const market = new RoughBergomiGenerator({ seed: 1 });
    expect(market.options).toEqual({
      seed: 1,
      startPrice: 100,
      mu: 0,
      xi0: 0.04,
      eta: 1.9,
      hurst: 0.1,
      rho: -0.9,
      interval: 60,
      stepsPerBar: 4,
      baseVolume: 1_000,
      kernelSteps: null,
    });
    expect(market.dt).toBe(60 / 4 / (365 * 24 * 3600));
    expect([market.variance, market.volterra, market.volterraVariance, market.time]).toEqual([0.04, 0, 0, 0]);
  });

  it('gives the same bars for the same seed, different bars for another, and again after reset', () => {
    const market = new RoughBergomiGenerator({ seed: 42 });
    const bars = market.bars(300);
    expect(new RoughBergomiGenerator({ seed: 42 }).bars(300)).toEqual(bars);
    expect(new RoughBergomiGenerator({ seed: 43 }).bars(300)).not.toEqual(bars);
    market.reset();
    expect([...market.bars(100), market.nextBar(), ...market.bars(199)]).toEqual(bars);
    const truncated = new RoughBergomiGenerator({ seed: 42, kernelSteps: 10 });
    const truncatedBars = truncated.bars(300);
    truncated.reset();
    expect(truncated.bars(300)).toEqual(truncatedBars);
  });

  it('chains bars and keeps the OHLC invariants with a positive volume', () => {
    const bars = new RoughBergomiGenerator({ seed: 7, startPrice: 250, interval: 3_600 }).bars(1_500);
    const broken = bars.filter(
      (bar, k) =>
        bar.open !== (k === 0 ? 250 : bars[k - 1]!.close) ||
        !(bar.low <= Math.min(bar.open, bar.close)) ||
        !(bar.high >= Math.max(bar.open, bar.close)) ||
        !(bar.low > 0) ||
        !(bar.volume > 0),
    );
    expect(broken).toEqual([]);
  });

  it('has the scheme variance of Y within 0.1 % of t^{2H}, exactly so after one step', () => {
    for (const hurst of [0.05, 0.1, 0.3]) {
      const market = new RoughBergomiGenerator({ seed: 1, hurst, interval: DAY, stepsPerBar: 1 });
      run(market, 2_000, (step) => {
        const ratio = market.volterraVariance / market.time ** (2 * hurst);
        if (step === 1) expect(ratio).toBeCloseTo(1, 12);
        expect(Math.abs(ratio - 1)).toBeLessThan(1e-3);
      });
    }
  });

  it('reduces to Y = W, a lognormal Bergomi model, when H = ½', () => {
    const market = new RoughBergomiGenerator({ seed: 3, hurst: 0.5, interval: DAY, stepsPerBar: 1 });
    run(market, 500, () => {
      expect(market.volterra).toBeCloseTo(market.brownian, 10);
      expect(market.volterraVariance).toBeCloseTo(market.time, 12);
    });
  });

  it('truncates the kernel after kernelSteps steps and nothing else', () => {
    const hurst = 0.1;
    const kernelSteps = 8;
    const options = { seed: 11, hurst, interval: DAY, stepsPerBar: 1 };
    const full = new RoughBergomiGenerator(options);
    const truncated = new RoughBergomiGenerator({ ...options, kernelSteps });
    const increments: number[] = [];
    const alpha = hurst - 0.5;
    const weight = (k: number): number =>
      (full.dt ** alpha * (k ** (alpha + 1) - (k - 1) ** (alpha + 1))) / (alpha + 1);
    let saturated = 0;
    let previousW = 0;
    run(full, 300, (step) => {
      truncated.nextBar();
      increments.push(full.brownian - previousW);
      previousW = full.brownian;
      expect(truncated.brownian).toBe(full.brownian);
      if (step === kernelSteps) saturated = truncated.volterraVariance;
      if (step >= kernelSteps) expect(truncated.volterraVariance).toBe(saturated);
      // The terms k > K of the Riemann sum are exactly what truncation drops.
      let dropped = 0;
      for (let k = kernelSteps + 1; k <= step; k += 1) dropped += weight(k) * increments[step - k]!;
      expect(full.volterra - truncated.volterra).toBeCloseTo(Math.sqrt(2 * hurst) * dropped, 9);
    });
    expect(saturated).toBeCloseTo(full.dt ** (2 * hurst) * kernelSteps ** (2 * hurst), 3);
  });

  // 10,000 independent paths of 64 daily steps: t = 64/365 ≈ 0.175 years, s = t/2.
  describe('across 10,000 seeded paths', () => {
    const hurst = 0.1;
    const paths = 10_000;
    const [early, late] = [32, 64];
    const [s, t] = [early / 365, late / 365];
    const yEarly = new Float64Array(paths);
    const yLate = new Float64Array(paths);
    const wLate = new Float64Array(paths);
    const vEarly = new Float64Array(paths);
    const vLate = new Float64Array(paths);
    const prices = new Float64Array(paths);
    const products = (a: Float64Array, b: Float64Array): Float64Array => a.map((x, i) => x * b[i]!);

    beforeAll(() => {
      const options = { hurst, eta: 1, rho: -0.7, mu: 0.2, interval: DAY, stepsPerBar: 1 };
      for (let path = 0; path < paths; path += 1) {
        const market = new RoughBergomiGenerator({ seed: 50_000 + path, ...options });
        run(market, late, (step) => {
          if (step !== early) return;
          yEarly[path] = market.volterra;
          vEarly[path] = market.variance;
        });
        [yLate[path], wLate[path], vLate[path], prices[path]] = [
          market.volterra,
          market.brownian,
          market.variance,
          market.lastPrice,
        ];
      }
    });

    it('has Var Y_t = t^{2H}', () => {
      expectNear(meanOf(products(yLate, yLate)), t ** (2 * hurst), 0.02);
      expectNear(meanOf(products(yEarly, yEarly)), s ** (2 * hurst), 0.02);
    });

    it('has the Volterra covariance between Y_s and Y_t (long memory, not independent increments)', () => {
      const expected = volterraCovariance(hurst, s, t);
      // Sanity of the quadrature: for H = ½ the covariance is min(s, t) = s.
      expect(volterraCovariance(0.5, s, t)).toBeCloseTo(s, 10);
      expectNear(meanOf(products(yEarly, yLate)), expected, 0.04);
    });

    it('has Cov(Y_t, W_t) = √(2H) t^{H+½}/(H+½)', () => {
      const expected = (Math.sqrt(2 * hurst) * t ** (hurst + 0.5)) / (hurst + 0.5);
      expectNear(meanOf(products(yLate, wLate)), expected, 0.03);
    });

    it('has E[V_t] = ξ0 at every time', () => {
      expectNear(meanOf(vEarly), 0.04, 0.02);
      expectNear(meanOf(vLate), 0.04, 0.02);
    });

    it('has mean price S0·e^{μT}', () => {
      expectNear(meanOf(prices), 100 * Math.exp(0.2 * t), 0.01);
    });
  });

  it('rejects bad options, naming every bad field', () => {
    const error = errorOf<QmtlError>(
      () =>
        new RoughBergomiGenerator({
          seed: Number.NaN,
          startPrice: -1,
          mu: Number.POSITIVE_INFINITY,
          xi0: 0,
          eta: -1,
          hurst: 0.7,
          rho: 2,
          interval: 0,
          stepsPerBar: 1.5,
          baseVolume: 0,
          kernelSteps: 0,
        }),
    );
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    const expected = [
      'seed must be a safe integer, got NaN',
      'startPrice must be a finite number > 0, got -1',
      'mu must be a finite number, got Infinity',
      'xi0 must be a finite number > 0, got 0',
      'eta must be a finite number >= 0, got -1',
      'hurst must be a finite number in (0, 0.5], got 0.7',
      'rho must be a finite number in [-1, 1], got 2',
      'interval must be a positive integer number of seconds, got 0',
      'stepsPerBar must be a positive integer, got 1.5',
      'baseVolume must be a finite number > 0, got 0',
      'kernelSteps must be null (the whole path) or a positive integer, got 0',
    ];
    expect(error.problems.map((problem) => problem.message)).toEqual(expected);
    for (const text of expected) expect(error.message).toContain(text);
  });

  it.each<[string, Partial<RoughBergomiOptions>]>([
    ['hurst', { hurst: 0 }],
    ['hurst', { hurst: 0.5000001 }],
    ['kernelSteps', { kernelSteps: 2.5 }],
  ])('rejects a bad %s', (field, options) => {
    expect(() => new RoughBergomiGenerator({ seed: 1, ...options })).toThrow(`${field} must be`);
  });

  it('accepts η = 0 (constant variance ξ0), H = ½ and ρ = ±1', () => {
    const flat = new RoughBergomiGenerator({ seed: 1, eta: 0, rho: 1 });
    flat.bars(50);
    expect(flat.variance).toBe(0.04);
    expect(() => new RoughBergomiGenerator({ seed: 1, hurst: 0.5, rho: -1 })).not.toThrow();
  });
});
