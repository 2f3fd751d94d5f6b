import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertInput } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * A trend line from a one-dimensional Kalman filter with a random-walk state model: the hidden
 * level moves by noise of variance `processVariance` per input and each input observes it with
 * noise of variance `measurementVariance`.
 *
 * The estimate starts at the first input with variance p = 1; for each later input z:
 * `p ← p + q`, gain `k = p/(p + r)`, `x ← x + k·(z − x)`, `p ← (1 − k)·p`. The result is x, from the
 * first input on (warm-up 1); x is updated as `z + (1 − k)·(x − z)`, which is exact when k rounds
 * to 1. The gain settles at the steady state of that recursion, so the
 * filter ends up an exponential average with α ≈ √(q/r) when q ≪ r (≈ 0.031 with the defaults).
 * Same definition as the original qmtl `kalman_trend`.
 *
 * @example
 * const kalman = new KalmanTrend(0, 1); // q = 0, r = 1: the running mean after the first input
 * [4, 8, 0].map((x) => kalman.update(x)); // [4, 6, 4] (gains 1/2, 1/3)
 */
export class KalmanTrend implements StreamingIndicator {
  readonly warmupPeriod = 1;
  readonly processVariance: number;
  readonly measurementVariance: number;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** Variance of the current estimate. */
  private variance = 1;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousVariance = 1;
  private previousResult: number | null = null;

  /**
   * @param processVariance q, how far the level may move per input; a finite number ≥ 0.
   * @param measurementVariance r, the noise of each input; a finite number > 0.
   */
  constructor(processVariance = 1e-5, measurementVariance = 1e-2) {
    // Number.isFinite is false for non-numbers too (no coercion).
    if (!(Number.isFinite(processVariance) && processVariance >= 0)) {
      invalid('processVariance must be a finite number ≥ 0', processVariance);
    }
    if (!(Number.isFinite(measurementVariance) && measurementVariance > 0)) {
      invalid('measurementVariance must be a positive finite number', measurementVariance);
    }
    this.processVariance = processVariance;
    this.measurementVariance = measurementVariance;
  }

  /** The latest estimate, `null` before the first input. */
  get result(): number | null {
    return this.current;
  }

  /** True once an input has been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new estimate. */
  update(value: number): number {
    assertInput('KalmanTrend', value);
    this.previousVariance = this.variance;
    this.previousResult = this.current;
    this.count += 1;
    const estimate = this.current;
    if (estimate === null) return (this.current = value);
    const predicted = this.variance + this.processVariance;
    const gain = predicted / (predicted + this.measurementVariance);
    // x + (1−k)·(x̂ − x) rather than x̂ + k·(z − x̂): exact when k rounds to 1 (r ≪ p), where the
    // second form rounds a small input away next to a much larger estimate.
    const rest = 1 - gain;
    this.variance = rest * predicted;
    return (this.current = value + rest * (estimate - value));
  }

  /** Replaces the newest input (a late correction) and returns the recomputed estimate. */
  replace(value: number): number {
    assertInput('KalmanTrend', value);
    if (this.count === 0) return this.update(value);
    this.count -= 1;
    this.variance = this.previousVariance;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.variance = 1;
    this.current = null;
    this.previousVariance = 1;
    this.previousResult = null;
  }
}

function invalid(what: string, value: unknown): never {
  throw new QmtlError(ErrorCode.InvalidArgument, `KalmanTrend ${what}, got ${quote(value)}`);
}
