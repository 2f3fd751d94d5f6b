import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { feed, randomWalk, relativeError, testIndicatorContract } from './indicator-contract.test-kit.js';
import { KalmanTrend } from './kalman-trend.js';

testIndicatorContract('KalmanTrend()', () => new KalmanTrend(), { warmupPeriod: 1 });
testIndicatorContract('KalmanTrend(0.5, 2)', () => new KalmanTrend(0.5, 2), { warmupPeriod: 1 });
testIndicatorContract('KalmanTrend(0, 1)', () => new KalmanTrend(0, 1), { warmupPeriod: 1 });

/** The filter over a whole series, as the original qmtl `kalman_trend` loop writes it. */
function batchKalman(inputs: readonly number[], q: number, r: number): number[] {
  let x = inputs[0]!;
  let p = 1;
  const out = [x];
  for (const z of inputs.slice(1)) {
    p = p + q;
    const k = p / (p + r);
    x = x + k * (z - x);
    p = p * (1 - k);
    out.push(x);
  }
  return out;
}

describe('KalmanTrend', () => {
  it('starts at the first input and moves towards each next one by the Kalman gain', () => {
    // q = 0, r = 1, p₀ = 1: gains 1/2, 1/3, 1/4 — the running mean of all inputs.
    expect(feed(new KalmanTrend(0, 1), [4, 8, 0, 8])).toEqual([4, 6, 4, 5]);
    // q = 1, r = 1: p 2 → gain 2/3, p 2/3; p 5/3 → gain 5/8.
    const values = feed(new KalmanTrend(1, 1), [0, 3, 3]);
    expect(values[1]).toBeCloseTo(2, 12);
    expect(values[2]).toBeCloseTo(2 + (5 / 8) * 1, 12);
  });

  it('settles at the steady-state gain of the recursion, ≈ √(q/r) when q ≪ r', () => {
    const q = 1e-5;
    const r = 1e-2;
    const kalman = new KalmanTrend(q, r);
    for (let i = 0; i < 2_000; i++) kalman.update(100);
    const before = kalman.result!;
    const gain = (kalman.update(101) - before) / (101 - before);
    // Steady state of the predicted variance: P² − qP − qr = 0; gain = P/(P + r).
    const predicted = (q + Math.sqrt(q * q + 4 * q * r)) / 2;
    expect(gain).toBeCloseTo(predicted / (predicted + r), 12);
    expect(gain).toBeCloseTo(Math.sqrt(q / r), 3);
  });

  // With r ≪ p the gain rounds to 1; x̂ + k·(z − x̂) then rounded a small z away next to a much
  // larger estimate (1e-6 after 1e12 gave 0).
  it('follows the input exactly when the gain is 1, also after a huge input', () => {
    const inputs = [1e12, 1e-6, -3e-9, 7e20, 0.1];
    expect(feed(new KalmanTrend(1e300, 1e-300), inputs)).toEqual(inputs);
  });

  it('defaults to q = 1e-5 and r = 1e-2, like the original', () => {
    const kalman = new KalmanTrend();
    expect([kalman.processVariance, kalman.measurementVariance]).toEqual([1e-5, 1e-2]);
  });

  it('rejects a negative process variance and a measurement variance that is not positive', () => {
    expect(() => new KalmanTrend(-1)).toThrow(
      'KalmanTrend processVariance must be a finite number ≥ 0, got -1',
    );
    expect(() => new KalmanTrend(1e-5, 0)).toThrow(
      'KalmanTrend measurementVariance must be a positive finite number, got 0',
    );
    expect(() => new KalmanTrend(Number.NaN)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    expect(() => new KalmanTrend(1e-5, Number.POSITIVE_INFINITY)).toThrow(/got Infinity/);
  });

  it('names itself and the value when an input is not finite', () => {
    expect(() => new KalmanTrend().update(Number.NaN)).toThrow(
      'KalmanTrend input must be a finite number, got NaN',
    );
  });

  it('matches the batch recursion on a 10,000-value random walk to 1e-9', () => {
    const inputs = randomWalk(10_000, 42);
    for (const [q, r] of [
      [1e-5, 1e-2],
      [0, 1],
      [1, 1e-3],
      [0.1, 10],
    ] as const) {
      const expected = batchKalman(inputs, q, r);
      const actual = feed(new KalmanTrend(q, r), inputs);
      const errors = actual.map((x, i) => relativeError(x!, expected[i]!));
      expect(Math.max(...errors)).toBeLessThan(1e-9);
    }
  });
});
