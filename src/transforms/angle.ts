import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertInput } from '../indicators/assert-input.js';
import type { StreamingIndicator } from '../indicators/indicator.js';

/**
 * The window is summed again once Σ|y − reference| is below this fraction of its peak since the last
 * recompute, so the sums' rounding error stays within ~64·period·ε of their scale.
 */
const CANCELLED = 1 / 64;

/** The unit {@link Angle} reports in. */
export const AngleUnit = { Degrees: 'degrees', Radians: 'radians' } as const;
export type AngleUnit = (typeof AngleUnit)[keyof typeof AngleUnit];

/**
 * The angle of the least-squares line through the last `period` inputs, plotted one unit apart:
 * `atan(slope)` where `slope = Σ(k − m)·y_k / Σ(k − m)²` over k = 0 … period−1 (oldest first),
 * m = (period−1)/2, i.e. the change per input. In degrees (default) or radians, in (−90°, 90°).
 * `null` until `period` inputs; `period` ≥ 2.
 *
 * O(1) per update: the window's sum D and centred weighted sum S = Σ(k − m)·y_k slide as
 * `S ← S + m·y_new + (m+1)·y_old − D` and `D ← D + y_new − y_old`. Both are kept relative to a
 * reference level (a recent input), so S never comes from the difference of two large level-sized
 * sums, and both are recomputed from the window each time the ring wraps, so rounding cannot
 * accumulate beyond `period` updates (amortised O(1)). They are also recomputed when the window's
 * Σ|y − reference| falls below 1/64 of its peak since the last recompute (an outlier has left the
 * window; its rounding error would otherwise stay until the wrap), and when the last `period`
 * inputs are equal, so a flat window gives exactly 0 rather than ±1e-14° of rounding.
 *
 * Same definition as the original qmtl `angle`, except that it already returns a value once two
 * inputs are in (fitting over fewer than `window`) and takes `radians: true` instead of a unit.
 *
 * @example
 * const angle = new Angle(3);
 * [1, 2, 3, 3].map((x) => angle.update(x)); // [null, null, 45, 26.56…] (slopes 1 and 0.5)
 */
export class Angle implements StreamingIndicator {
  readonly warmupPeriod: number;
  readonly unit: AngleUnit;
  private readonly period: number;
  /** m = (period − 1)/2, the centre of the x positions. */
  private readonly centre: number;
  /** Σ(k − m)² = period·(period² − 1)/12. */
  private readonly spread: number;
  private readonly scale: number;
  private readonly window: Float64Array;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next input goes to; once full it holds the oldest input. */
  private next = 0;
  /** The level the sums are taken relative to. */
  private reference = 0;
  /** Σ(y − reference) over the window. */
  private sum = 0;
  /** Σ(k − m)·y over the window (the reference cancels out). */
  private weighted = 0;
  /** Σ|y − reference| over the window: the scale of the sums' rounding error. */
  private extent = 0;
  /** The largest `extent` since the last recompute. */
  private peak = 0;
  /** How many of the newest inputs are equal (1 for an input unlike the one before). */
  private run = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousEvicted = 0;
  private previousReference = 0;
  private previousSum = 0;
  private previousWeighted = 0;
  private previousExtent = 0;
  private previousPeak = 0;
  private previousRun = 0;

  /**
   * @param period the number of inputs fitted; an integer ≥ 2.
   * @param unit `'degrees'` (default) or `'radians'`.
   */
  constructor(period = 14, unit: AngleUnit = 'degrees') {
    if (!(typeof period === 'number' && Number.isSafeInteger(period) && period >= 2)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `Angle period must be an integer ≥ 2, got ${quote(period)}`,
      );
    }
    if (unit !== 'degrees' && unit !== 'radians') {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `Angle unit must be "degrees" or "radians", got ${quote(unit)}`,
      );
    }
    this.period = period;
    this.unit = unit;
    this.warmupPeriod = period;
    this.centre = (period - 1) / 2;
    this.spread = (period * (period * period - 1)) / 12;
    this.scale = unit === 'degrees' ? 180 / Math.PI : 1;
    this.window = new Float64Array(period);
  }

  /** The latest angle, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new angle (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('Angle', value);
    const slot = this.next;
    const evicted = this.window[slot]!;
    this.previousEvicted = evicted;
    this.previousReference = this.reference;
    this.previousSum = this.sum;
    this.previousWeighted = this.weighted;
    this.previousExtent = this.extent;
    this.previousPeak = this.peak;
    this.previousRun = this.run;
    const newest = this.window[slot === 0 ? this.period - 1 : slot - 1]!;
    this.run = this.count > 0 && value === newest ? this.run + 1 : 1;
    this.window[slot] = value;
    this.next = slot + 1 === this.period ? 0 : slot + 1;
    this.count += 1;
    if (this.count < this.period) return this.current;
    if (this.next === 0 || this.run === this.period) {
      // On a wrap, or once the window is flat: the sums then are exactly 0 and stay so while it is.
      this.recompute();
    } else {
      const reference = this.reference;
      const entering = value - reference;
      const leaving = evicted - reference;
      this.weighted += this.centre * entering + (this.centre + 1) * leaving - this.sum;
      this.sum += value - evicted;
      // An input far from the rest (an outlier) leaves a rounding error ~ε·period·peak in the sums
      // after it has gone; once the inputs' spread has fallen well below that peak, sum again.
      const extent = this.extent + (Math.abs(entering) - Math.abs(leaving));
      this.extent = extent;
      if (extent > this.peak) this.peak = extent;
      else if (extent < this.peak * CANCELLED) this.recompute();
    }
    return (this.current = Math.atan(this.weighted / this.spread) * this.scale);
  }

  /** Replaces the newest input (a late correction) and returns the recomputed angle. */
  replace(value: number): number | null {
    assertInput('Angle', value);
    if (this.count === 0) return this.update(value);
    this.next = this.next === 0 ? this.period - 1 : this.next - 1;
    this.window[this.next] = this.previousEvicted;
    this.count -= 1;
    this.reference = this.previousReference;
    this.sum = this.previousSum;
    this.weighted = this.previousWeighted;
    this.extent = this.previousExtent;
    this.peak = this.previousPeak;
    this.run = this.previousRun;
    if (this.count < this.period) this.current = null;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.fill(0);
    this.count = 0;
    this.next = 0;
    this.reference = 0;
    this.sum = 0;
    this.weighted = 0;
    this.extent = 0;
    this.peak = 0;
    this.run = 0;
    this.current = null;
    this.previousEvicted = 0;
    this.previousReference = 0;
    this.previousSum = 0;
    this.previousWeighted = 0;
    this.previousExtent = 0;
    this.previousPeak = 0;
    this.previousRun = 0;
  }

  /** Recomputes the sums from the window (its oldest input at slot `next`), around the newest. */
  private recompute(): void {
    const window = this.window;
    const period = this.period;
    const oldest = this.next;
    const reference = window[oldest === 0 ? period - 1 : oldest - 1]!;
    let sum = 0;
    let weighted = 0;
    let extent = 0;
    for (let k = 0, slot = oldest; k < period; k++, slot = slot + 1 === period ? 0 : slot + 1) {
      const deviation = window[slot]! - reference;
      sum += deviation;
      weighted += (k - this.centre) * deviation;
      extent += Math.abs(deviation);
    }
    this.reference = reference;
    this.sum = sum;
    this.weighted = weighted;
    this.extent = extent;
    this.peak = extent;
  }
}
