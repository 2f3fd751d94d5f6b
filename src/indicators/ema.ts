import { assertInput, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Exponential moving average, textbook form: α = 2/(period+1), seeded with the simple mean of
 * the first `period` inputs (`null` until then), then `ema ← ema + α·(x − ema)`, evaluated as
 * `x + (1−α)·(ema − x)`: the same cost, and exact for α = 1, where the first form rounds x away
 * next to a much larger average (EMA(1) of 1e-6 after 1e12 was 0).
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
  /** 1 − α, so that `ema ← x + (1−α)·(ema − x)`. */
  private readonly decay: number;
  private readonly period: number;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** Sum of the first `period` inputs, for the seed. */
  private seedSum = 0;
  // The average as a plain double (meaningful once warm): a number-or-null field would box every
  // new value in a heap number.
  private average = 0;
  private warm = false;
  // State before the newest update, so replace() can undo it exactly.
  private previousSeedSum = 0;
  private previousAverage = 0;
  private previousWarm = false;

  /** @param period the span in inputs; a positive integer. */
  constructor(period: number) {
    this.period = assertPeriod('EMA', period);
    this.warmupPeriod = this.period;
    this.alpha = 2 / (this.period + 1);
    this.decay = 1 - this.alpha;
  }

  /** The latest average, `null` until warm. */
  get result(): number | null {
    return this.warm ? this.average : null;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.warm;
  }

  /** Adds the next input and returns the new average (or `null` while warming up). */
  update(value: number): number | null {
    if (typeof value !== 'number' || value - value !== 0) assertInput('EMA', value);
    this.count += 1;
    this.previousAverage = this.average;
    this.previousWarm = this.warm;
    if (this.warm) return (this.average = value + this.decay * (this.average - value));
    this.previousSeedSum = this.seedSum;
    this.seedSum += value;
    if (this.count < this.period) return null;
    this.average = this.seedSum / this.period;
    this.warm = true;
    return this.average;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed average. */
  replace(value: number): number | null {
    assertInput('EMA', value);
    if (this.count === 0) return this.update(value);
    this.count -= 1;
    this.seedSum = this.previousSeedSum;
    this.average = this.previousAverage;
    this.warm = this.previousWarm;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.seedSum = 0;
    this.average = 0;
    this.warm = false;
    this.previousSeedSum = 0;
    this.previousAverage = 0;
    this.previousWarm = false;
  }
}
