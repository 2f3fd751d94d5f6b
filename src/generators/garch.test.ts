import { describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import { GarchGenerator } from './garch.js';
import { HestonGenerator } from './heston.js';
import { RoughBergomiGenerator } from './rough-bergomi.js';
import type { GarchOptions } from './garch-options.js';

function errorOf(action: () => unknown): QmtlError {
  try {
    action();
  } catch (error) {
    return error as QmtlError;
  }
  throw new Error('expected an error');
}

describe('GarchGenerator', () => {
  it('fills in documented defaults', () => {
    const market = new GarchGenerator({ seed: 1 });
    expect(market.options).toEqual({
      seed: 1,
      startPrice: 100,
      mu: 0,
      omega: 1e-6,
      alpha: 0.05,
      beta: 0.9,
      stepsPerBar: 4,
      baseVolume: 1_000,
    });
    expect(market.unconditionalVariance).toBeCloseTo(1e-6 / 0.05, 15);
  });

  it('gives the same bars for the same seed and different bars for another', () => {
    const bars = new GarchGenerator({ seed: 42 }).bars(1_000);
    expect(new GarchGenerator({ seed: 42 }).bars(1_000)).toEqual(bars);
    expect(new GarchGenerator({ seed: 43 }).bars(1_000)).not.toEqual(bars);
  });

  it('replays the same bars after reset, however they are requested', () => {
    const market = new GarchGenerator({ seed: 5, stepsPerBar: 3 });
    const first = market.bars(500);
    market.reset();
    const again = [...market.bars(200), market.nextBar(), ...market.bars(299)];
    expect(again).toEqual(first);
  });

  it('chains bars and keeps the OHLC invariants with a positive volume', () => {
    const bars = new GarchGenerator({ seed: 7, startPrice: 250 }).bars(20_000);
    expect(bars[0]!.open).toBe(250);
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

  it('has return variance ω/(1−α−β) and volatility clustering over 200,000 steps', () => {
    const market = new GarchGenerator({ seed: 11, stepsPerBar: 1 });
    const returns = market.bars(200_000).map((bar) => Math.log(bar.close / bar.open));
    const mean = returns.reduce((sum, r) => sum + r, 0) / returns.length;
    const variance = returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (returns.length - 1);
    expect(Math.abs(variance / market.unconditionalVariance - 1)).toBeLessThan(0.02);
    // GARCH: squared returns are positively autocorrelated, returns themselves are not.
    const lagCorrelation = (xs: number[]): number => {
      const m = xs.reduce((s, x) => s + x, 0) / xs.length;
      let cov = 0;
      let sq = 0;
      for (let i = 0; i < xs.length; i += 1) {
        sq += (xs[i]! - m) ** 2;
        if (i > 0) cov += (xs[i]! - m) * (xs[i - 1]! - m);
      }
      return cov / sq;
    };
    expect(lagCorrelation(returns.map((r) => r * r))).toBeGreaterThan(0.03);
    expect(Math.abs(lagCorrelation(returns))).toBeLessThan(0.01);
  });

  it('adds the drift mu to every step', () => {
    const market = new GarchGenerator({ seed: 3, stepsPerBar: 1, mu: 1e-3 });
    const returns = market.bars(100_000).map((bar) => Math.log(bar.close / bar.open));
    const mean = returns.reduce((sum, r) => sum + r, 0) / returns.length;
    expect(Math.abs(mean - 1e-3)).toBeLessThan(1e-4);
  });

  it('makes volume larger in turbulent bars', () => {
    const bars = new GarchGenerator({ seed: 13 }).bars(50_000);
    const moves = bars.map((bar) => Math.log(bar.high / bar.low));
    const volumes = bars.map((bar) => bar.volume);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const [mx, my] = [mean(moves), mean(volumes)];
    let cov = 0;
    let vx = 0;
    let vy = 0;
    moves.forEach((x, i) => {
      cov += (x - mx) * (volumes[i]! - my);
      vx += (x - mx) ** 2;
      vy += (volumes[i]! - my) ** 2;
    });
    expect(cov / Math.sqrt(vx * vy)).toBeGreaterThan(0.2);
    expect(my / 1_000).toBeGreaterThan(1.6);
    expect(my / 1_000).toBeLessThan(2);
  });

  it('rejects bad options, naming every bad field', () => {
    const error = errorOf(
      () =>
        new GarchGenerator({
          seed: 1.5,
          startPrice: 0,
          mu: Number.NaN,
          omega: 0,
          alpha: -0.1,
          beta: -1,
          stepsPerBar: 0,
          baseVolume: -1,
        }),
    );
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    for (const text of [
      'seed must be a safe integer, got 1.5',
      'startPrice must be a finite number > 0, got 0',
      'mu must be a finite number, got NaN',
      'omega must be a finite number > 0, got 0',
      'alpha must be a finite number >= 0, got -0.1',
      'beta must be a finite number >= 0, got -1',
      'stepsPerBar must be a positive integer, got 0',
      'baseVolume must be a finite number > 0, got -1',
    ]) {
      expect(error.message).toContain(text);
    }
    expect(error.problems).toHaveLength(8);
  });

  it('names the missing seed when no options are given, for every generator', () => {
    for (const make of [
      () => new GarchGenerator(undefined as never),
      () => new HestonGenerator(null as never),
      () => new RoughBergomiGenerator(undefined as never),
    ]) {
      expect(make).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidArgument,
          message: expect.stringContaining('seed'),
        }),
      );
    }
  });

  it('rejects a misspelt option, listing the known ones', () => {
    expect(() => new GarchGenerator({ seed: 1, alfa: 0.1 } as never)).toThrow(
      /unknown option "alfa" \(known: seed, startPrice, mu, omega, alpha, beta, stepsPerBar, baseVolume\)/,
    );
  });

  it('rejects a non-stationary alpha + beta, naming both values', () => {
    expect(() => new GarchGenerator({ seed: 1, alpha: 0.2, beta: 0.8 })).toThrow(
      'alpha + beta must be < 1 for a stationary GARCH(1,1), got alpha = 0.2, beta = 0.8 (sum 1)',
    );
  });

  it.each<[string, Partial<GarchOptions>]>([
    ['stepsPerBar', { stepsPerBar: 2.5 }],
    ['omega', { omega: Number.POSITIVE_INFINITY }],
    ['startPrice', { startPrice: -5 }],
  ])('rejects a bad %s', (field, options) => {
    expect(() => new GarchGenerator({ seed: 1, ...options })).toThrow(`${field} must be`);
  });

  it('rejects a bad bar count', () => {
    expect(() => new GarchGenerator({ seed: 1 }).bars(-1)).toThrow(
      'bars count must be a non-negative integer, got -1',
    );
  });
});
