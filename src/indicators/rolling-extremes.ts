import { assertPeriod } from './assert-input.js';

/**
 * Maximum and minimum of the last `period` values (or, with `pushRange`, the maximum of the
 * highs and the minimum of the lows of the last `period` bars), O(1) amortised per `push` (monotonic deques
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
  /** Rings of the last `period` highs and lows (equal for single values); `newest` is the latest slot. */
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  private newest = -1;
  // Monotonic deques as rings of capacity `period`: input index and value of each entry.
  private readonly maxIndex: Float64Array;
  private readonly maxValue: Float64Array;
  private readonly minIndex: Float64Array;
  private readonly minValue: Float64Array;
  private maxHead = 0;
  private maxLength = 0;
  private minHead = 0;
  private minLength = 0;
  /** Values pushed since construction or `reset()`. */
  private pushed = 0;

  constructor(period: number, owner = 'RollingExtremes') {
    this.period = assertPeriod(owner, period);
    this.highs = new Float64Array(this.period);
    this.lows = new Float64Array(this.period);
    this.maxIndex = new Float64Array(this.period);
    this.maxValue = new Float64Array(this.period);
    this.minIndex = new Float64Array(this.period);
    this.minValue = new Float64Array(this.period);
  }

  /** Values currently in the window (at most `period`). */
  get count(): number {
    return this.pushed < this.period ? this.pushed : this.period;
  }

  /** True once `period` values have been pushed. */
  get isFull(): boolean {
    return this.pushed >= this.period;
  }

  /** The largest value in the window (`-Infinity` when empty). */
  max(): number {
    return this.maxLength === 0 ? -Infinity : this.maxValue[this.maxHead]!;
  }

  /** The smallest value in the window (`Infinity` when empty). */
  min(): number {
    return this.minLength === 0 ? Infinity : this.minValue[this.minHead]!;
  }

  /** The value (or high) pushed `back` pushes ago (0 = newest); `back` must be below `count`. */
  ago(back: number): number {
    const slot = this.newest - back;
    return this.highs[slot < 0 ? slot + this.period : slot]!;
  }

  /** Adds a value, evicting the oldest once the window is full. */
  push(value: number): void {
    this.pushRange(value, value);
  }

  /** Adds a bar's high (to the max) and low (to the min), evicting the oldest once full. */
  pushRange(high: number, low: number): void {
    if (++this.newest === this.period) this.newest = 0;
    this.highs[this.newest] = high;
    this.lows[this.newest] = low;
    this.enter(this.pushed++, high, low);
  }

  /** Replaces the newest value (a late correction); like `push` when the window is empty. */
  replaceNewest(value: number): void {
    this.replaceNewestRange(value, value);
  }

  /** Replaces the newest high and low; like `pushRange` when the window is empty. */
  replaceNewestRange(high: number, low: number): void {
    if (this.pushed === 0) {
      this.pushRange(high, low);
      return;
    }
    this.highs[this.newest] = high;
    this.lows[this.newest] = low;
    this.maxHead = this.maxLength = this.minHead = this.minLength = 0;
    for (let back = this.count - 1; back >= 0; back--) {
      const slot = this.newest - back < 0 ? this.newest - back + this.period : this.newest - back;
      this.enter(this.pushed - 1 - back, this.highs[slot]!, this.lows[slot]!);
    }
  }

  /** Empties the window. */
  reset(): void {
    this.pushed = 0;
    this.newest = -1;
    this.maxHead = this.maxLength = this.minHead = this.minLength = 0;
  }

  private enter(index: number, high: number, low: number): void {
    const p = this.period;
    const oldest = index - p + 1;
    // Max deque: strictly decreasing values from head to tail.
    if (this.maxLength > 0 && this.maxIndex[this.maxHead]! < oldest) {
      if (++this.maxHead === p) this.maxHead = 0;
      this.maxLength--;
    }
    let tail = this.maxHead + this.maxLength - 1;
    if (tail >= p) tail -= p;
    while (this.maxLength > 0 && this.maxValue[tail]! <= high) {
      this.maxLength--;
      if (--tail < 0) tail = p - 1;
    }
    if (++tail === p) tail = 0;
    this.maxIndex[tail] = index;
    this.maxValue[tail] = high;
    this.maxLength++;
    // Min deque: strictly increasing values from head to tail.
    if (this.minLength > 0 && this.minIndex[this.minHead]! < oldest) {
      if (++this.minHead === p) this.minHead = 0;
      this.minLength--;
    }
    tail = this.minHead + this.minLength - 1;
    if (tail >= p) tail -= p;
    while (this.minLength > 0 && this.minValue[tail]! >= low) {
      this.minLength--;
      if (--tail < 0) tail = p - 1;
    }
    if (++tail === p) tail = 0;
    this.minIndex[tail] = index;
    this.minValue[tail] = low;
    this.minLength++;
  }
}
