import { assertInput, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Simple moving average: the mean of the last `period` inputs, `null` until `period` inputs.
 *
 * The inputs sit in a `Float64Array` ring and the window sum is kept with Neumaier (compensated)
 * summation, so each update is O(1) and the sum does not drift however long the stream runs, even
 * when a huge value enters and later leaves the window.
 *
 * @example
 * const sma = new SMA(3);
 * [1, 2, 3, 4].map((x) => sma.update(x)); // [null, null, 2, 3]
 */
export class SMA implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly period: number;
  private readonly window: Float64Array;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next input goes to; once full it holds the oldest input. */
  private next = 0;
  private sum = 0;
  private compensation = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousSum = 0;
  private previousCompensation = 0;
  private previousEvicted = 0;
  private previousResult: number | null = null;

  /** @param period the window length in inputs; a positive integer. */
  constructor(period: number) {
    this.period = assertPeriod('SMA', period);
    this.warmupPeriod = this.period;
    this.window = new Float64Array(this.period);
  }

  /** The mean of the last `period` inputs, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new mean (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('SMA', value);
    this.previousSum = this.sum;
    this.previousCompensation = this.compensation;
    this.previousEvicted = this.window[this.next] ?? 0;
    this.previousResult = this.current;
    this.add(value);
    if (this.count >= this.period) this.add(-this.previousEvicted);
    this.window[this.next] = value;
    this.next = this.next + 1 === this.period ? 0 : this.next + 1;
    this.count += 1;
    this.current = this.count >= this.period ? (this.sum + this.compensation) / this.period : null;
    return this.current;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed mean. */
  replace(value: number): number | null {
    assertInput('SMA', value);
    if (this.count === 0) return this.update(value);
    this.next = this.next === 0 ? this.period - 1 : this.next - 1;
    this.window[this.next] = this.previousEvicted;
    this.count -= 1;
    this.sum = this.previousSum;
    this.compensation = this.previousCompensation;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.fill(0);
    this.count = 0;
    this.next = 0;
    this.sum = 0;
    this.compensation = 0;
    this.current = null;
    this.previousSum = 0;
    this.previousCompensation = 0;
    this.previousEvicted = 0;
    this.previousResult = null;
  }

  /** Neumaier's compensated addition: `sum + compensation` tracks the exact total. */
  private add(value: number): void {
    const total = this.sum + value;
    if (Math.abs(this.sum) >= Math.abs(value)) this.compensation += this.sum - total + value;
    else this.compensation += value - total + this.sum;
    this.sum = total;
  }
}
