import { assertInput, assertPeriod } from '../indicators/assert-input.js';
import type { StreamingIndicator } from '../indicators/indicator.js';

/**
 * Rate of change as a fraction: `(x[t] − x[t−period]) / x[t−period]`, e.g. 0.02 for a 2 % rise.
 * `null` until `period + 1` inputs, and `null` for any input whose base `x[t−period]` is 0 (the
 * change is undefined there; the next input with a non-zero base has a result again).
 *
 * The original qmtl `rate_of_change(period=2)` counts the window including both ends, so its
 * `period: 2` is `RateOfChange(1)` here; it also returns `None` on a zero base. trading-signals'
 * `ROC` is the same fraction; technicalindicators' `ROC` is it times 100.
 *
 * @example
 * const roc = new RateOfChange(2);
 * [100, 0, 110, 5, 121].map((x) => roc.update(x)); // [null, null, 0.1, null, 0.1] (base 0 → null)
 */
export class RateOfChange implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly period: number;
  /** The last `period` inputs, oldest at `next` once full. */
  private readonly window: Float64Array;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next input goes to; once full it holds `x[t−period]` for that input. */
  private next = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousEvicted = 0;

  /** @param period how many inputs back the base is; a positive integer. */
  constructor(period = 1) {
    this.period = assertPeriod('RateOfChange', period);
    this.warmupPeriod = this.period + 1;
    this.window = new Float64Array(this.period);
  }

  /** The latest rate of change, `null` until warm and on a zero base. */
  get result(): number | null {
    return this.current;
  }

  /** True while `result` is non-null: from input `period + 1` on, except on a zero base. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new rate of change (or `null`). */
  update(value: number): number | null {
    assertInput('RateOfChange', value);
    const slot = this.next;
    const base = this.window[slot]!;
    this.previousEvicted = base;
    this.window[slot] = value;
    this.next = slot + 1 === this.period ? 0 : slot + 1;
    this.count += 1;
    return (this.current = this.count > this.period && base !== 0 ? (value - base) / base : null);
  }

  /** Replaces the newest input (a late correction) and returns the recomputed rate of change. */
  replace(value: number): number | null {
    assertInput('RateOfChange', value);
    if (this.count === 0) return this.update(value);
    this.next = this.next === 0 ? this.period - 1 : this.next - 1;
    this.window[this.next] = this.previousEvicted;
    this.count -= 1;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.fill(0);
    this.count = 0;
    this.next = 0;
    this.current = null;
    this.previousEvicted = 0;
  }
}
