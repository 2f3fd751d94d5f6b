import { assertInput, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Exponential moving average, textbook form: α = 2/(period+1), seeded with the simple mean of
 * the first `period` inputs (`null` until then), then `ema ← ema + α·(x − ema)`.
 *
 * trading-signals' `EMA` seeds with the first input instead (and only reports a result once it
 * has seen `period` inputs), so the two differ by `(1−α)^n` times the seed difference and agree
 * once that has decayed.
 *
 * @example
 * const ema = new EMA(3);
 * [1, 2, 3, 4].map((x) => ema.update(x)); // [null, null, 2, 3]
 */
export class EMA implements StreamingIndicator {
  readonly warmupPeriod: number;
  /** The smoothing factor α = 2/(period+1). */
  readonly alpha: number;
  private readonly period: number;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** Sum of the first `period` inputs, for the seed. */
  private seedSum = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousSeedSum = 0;
  private previousResult: number | null = null;

  /** @param period the span in inputs; a positive integer. */
  constructor(period: number) {
    this.period = assertPeriod('EMA', period);
    this.warmupPeriod = this.period;
    this.alpha = 2 / (this.period + 1);
  }

  /** The latest average, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new average (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('EMA', value);
    this.previousSeedSum = this.seedSum;
    this.previousResult = this.current;
    this.count += 1;
    if (this.current !== null) {
      this.current += this.alpha * (value - this.current);
    } else {
      this.seedSum += value;
      if (this.count === this.period) this.current = this.seedSum / this.period;
    }
    return this.current;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed average. */
  replace(value: number): number | null {
    assertInput('EMA', value);
    if (this.count === 0) return this.update(value);
    this.count -= 1;
    this.seedSum = this.previousSeedSum;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.seedSum = 0;
    this.current = null;
    this.previousSeedSum = 0;
    this.previousResult = null;
  }
}
