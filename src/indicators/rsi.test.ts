import { RSI as ReferenceRSI } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import {
  compareWithReference,
  feed,
  randomWalk,
  testIndicatorContract,
} from './indicator-contract.test-kit.js';
import { RSI } from './rsi.js';

testIndicatorContract('RSI(1)', () => new RSI(1), { warmupPeriod: 2 });
testIndicatorContract('RSI(2)', () => new RSI(2), { warmupPeriod: 3 });
testIndicatorContract('RSI()', () => new RSI(), { warmupPeriod: 15 });

describe('RSI', () => {
  it('averages the first period changes simply, then smooths them the Wilder way', () => {
    // changes +1, −1: gains 0.5, losses 0.5 → 50; then +2: gains (0.5+2)/2, losses 0.5/2 → RS 5.
    const values = feed(new RSI(2), [1, 2, 1, 3]);
    expect(values.slice(0, 3)).toEqual([null, null, 50]);
    expect(values[3]).toBeCloseTo(100 - 100 / 6, 12);
  });

  it('reproduces the StockCharts RSI(14) worked example', () => {
    const closes = [
      44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
      46.0, 46.03, 46.41, 46.22, 45.64,
    ];
    const values = feed(new RSI(14), closes).slice(14);
    // StockCharts rounds the averages to 2 decimals at every step and publishes 70.53, 66.32, …;
    // carried at full precision the same data gives the values below (as trading-signals does).
    const published = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97];
    const unrounded = [70.46, 66.25, 66.48, 69.35, 66.29, 57.92];
    values.forEach((value, i) => {
      expect(Math.abs(value! - published[i]!)).toBeLessThan(0.1);
      expect(Math.abs(value! - unrounded[i]!)).toBeLessThan(0.005);
    });
  });

  it('gives 100 when there are no losses, also on a flat series, and 0 when there are no gains', () => {
    expect(feed(new RSI(3), [1, 2, 3, 4]).at(-1)).toBe(100);
    expect(feed(new RSI(3), [5, 5, 5, 5, 5]).at(-1)).toBe(100);
    expect(feed(new RSI(3), [4, 3, 2, 1]).at(-1)).toBe(0);
  });

  it('keeps the RSI exactly constant along a run of identical inputs', () => {
    for (const period of [2, 14]) {
      const inputs = [...randomWalk(100, 6), ...Array<number>(50).fill(97.25)];
      const values = feed(new RSI(period), inputs).slice(100);
      expect(values, `RSI(${period})`).toEqual(values.map(() => values[0]));
    }
  });

  it('defaults to Wilder’s period of 14', () => {
    expect(new RSI().warmupPeriod).toBe(15);
  });

  it('rejects a period that is not a positive integer', () => {
    expect(() => new RSI(0)).toThrow('RSI period must be a positive integer, got 0');
    expect(() => new RSI(-14)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new RSI().update(Number.NaN)).toThrow('RSI input must be a finite number, got NaN');
  });

  // trading-signals' RSI(n) uses its WSMA (SMA-seeded Wilder smoothing) for both averages, needs
  // n + 1 inputs and returns 100 when the average loss is 0: the same definition as ours. Its RSI(1)
  // never warms up (it keeps only one previous price), so period 1 is not compared.
  it('agrees with trading-signals RSI on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const period of [2, 5, 14, 50]) {
      const comparison = compareWithReference(new RSI(period), new ReferenceRSI(period), inputs);
      expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - period });
      expect(comparison.worstRelativeError).toBeLessThan(1e-9);
    }
  });

  it('agrees with trading-signals RSI on series with flat stretches', () => {
    const inputs = randomWalk(2_000, 9).map((x) => Math.round(x / 3));
    const comparison = compareWithReference(new RSI(5), new ReferenceRSI(5), inputs);
    expect(comparison).toMatchObject({ warmupMismatches: 0, compared: inputs.length - 5 });
    expect(comparison.worstRelativeError).toBeLessThan(1e-9);
  });
});
