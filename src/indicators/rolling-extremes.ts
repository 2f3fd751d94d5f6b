import { assertPeriod } from './assert-input.js';

/**
 * Maximum and minimum of the last `period` values, O(1) amortised per `push` (monotonic deques
 * over a ring buffer). `replaceNewest` rebuilds the deques from the ring, O(period): late
 * corrections are rare, updates are not.
 *
 * @example
 * const window = new RollingExtremes(3);
 * for (const x of [1, 5, 2, 4]) window.push(x);
 * [window.max(), window.min()]; // [5, 2]
 */
export class RollingExtremes {
  readonly period: number;
  private readonly values: Float64Array;
  // Deques of global input indices, as ring buffers of capacity `period`.
  private readonly maxIndex: Float64Array;
  private readonly minIndex: Float64Array;
  private maxHead = 0;
  private maxLength = 0;
  private minHead = 0;
  private minLength = 0;
  /** Values pushed since construction or `reset()`. */
  private pushed = 0;

  constructor(period: number, owner = 'RollingExtremes') {
    this.period = assertPeriod(owner, period);
    this.values = new Float64Array(this.period);
    this.maxIndex = new Float64Array(this.period);
    this.minIndex = new Float64Array(this.period);
  }

  /** Values currently in the window (at most `period`). */
  get count(): number {
    return Math.min(this.pushed, this.period);
  }

  /** True once `period` values have been pushed. */
  get isFull(): boolean {
    return this.pushed >= this.period;
  }

  /** The largest value in the window (`-Infinity` when empty). */
  max(): number {
    return this.maxLength === 0 ? -Infinity : this.valueAt(this.maxIndex[this.maxHead]!);
  }

  /** The smallest value in the window (`Infinity` when empty). */
  min(): number {
    return this.minLength === 0 ? Infinity : this.valueAt(this.minIndex[this.minHead]!);
  }

  /** The value pushed `back` pushes ago (0 = newest); `back` must be below `count`. */
  ago(back: number): number {
    return this.valueAt(this.pushed - 1 - back);
  }

  /** Adds a value, evicting the oldest once the window is full. */
  push(value: number): void {
    const index = this.pushed++;
    this.values[index % this.period] = value;
    this.enter(index, value);
  }

  /** Replaces the newest value (a late correction); like `push` when the window is empty. */
  replaceNewest(value: number): void {
    if (this.pushed === 0) {
      this.push(value);
      return;
    }
    this.values[(this.pushed - 1) % this.period] = value;
    this.maxLength = 0;
    this.minLength = 0;
    for (let index = Math.max(0, this.pushed - this.period); index < this.pushed; index++) {
      this.enter(index, this.valueAt(index));
    }
  }

  /** Empties the window. */
  reset(): void {
    this.pushed = 0;
    this.maxHead = 0;
    this.maxLength = 0;
    this.minHead = 0;
    this.minLength = 0;
  }

  private valueAt(index: number): number {
    return this.values[index % this.period]!;
  }

  private enter(index: number, value: number): void {
    const oldest = index - this.period + 1;
    const p = this.period;
    // Max deque: indices with strictly decreasing values from head to tail.
    if (this.maxLength > 0 && this.maxIndex[this.maxHead]! < oldest) {
      this.maxHead = (this.maxHead + 1) % p;
      this.maxLength--;
    }
    while (
      this.maxLength > 0 &&
      this.valueAt(this.maxIndex[(this.maxHead + this.maxLength - 1) % p]!) <= value
    )
      this.maxLength--;
    this.maxIndex[(this.maxHead + this.maxLength++) % p] = index;
    // Min deque: indices with strictly increasing values from head to tail.
    if (this.minLength > 0 && this.minIndex[this.minHead]! < oldest) {
      this.minHead = (this.minHead + 1) % p;
      this.minLength--;
    }
    while (
      this.minLength > 0 &&
      this.valueAt(this.minIndex[(this.minHead + this.minLength - 1) % p]!) >= value
    )
      this.minLength--;
    this.minIndex[(this.minHead + this.minLength++) % p] = index;
  }
}
