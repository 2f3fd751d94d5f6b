import { assertInput, assertPeriod } from './assert-input.js';
import { assertMultiplier } from './atr.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * A window's sum of squared deviations below this fraction of its peak since the last recompute is
 * summed again: its rounding error, ~ε·peak per update, would otherwise be more than ~64·period·ε
 * of it (1e-13 relative for period 20).
 */
const CANCELLED = 1 / 64;

/** A band around a middle line: what `BollingerBands` and `KeltnerChannel` return. */
export interface Bands {
  readonly middle: number;
  readonly upper: number;
  readonly lower: number;
}

/**
 * Bollinger Bands: `middle` is the simple mean of the last `period` inputs, `upper`/`lower` are
 * `middle ± multiplier·σ` with σ the population standard deviation of the same inputs
 * (`√(Σ(x − middle)²/period)`). `null` until `period` inputs.
 *
 * Numerically robust in O(1) amortised: the mean and the sum of squared deviations are kept for
 * the inputs minus a shift (a recent mean), so they carry the digits of the deviations rather than
 * of the price level, and updated with Welford's sliding-window recurrence, which never subtracts
 * two large sums of squares (on prices near 1e5 moving by cents a running `Σx² − (Σx)²/n` loses
 * nearly every digit). Each time the ring wraps both are recomputed from the window (corrected
 * two-pass) around a fresh shift, so rounding cannot accumulate beyond `period` updates; they are
 * also recomputed as soon as the sum of squares falls below 1/64 of its peak since the last
 * recompute (an outlier leaving the window, or a window turning flat), since the rounding error of
 * that peak would otherwise swamp it. So σ stays within ~1e-13 relative (or ~ε·price absolute) of
 * the exact window's, after a 1e12 tick among prices near 100 as well, and a flat window gives
 * exactly σ = 0. On a random walk that extra recompute is rare (2 in 1,000,000 updates for
 * period 20).
 *
 * @example
 * const bands = new BollingerBands(4, 2);
 * [1, 2, 3, 4].map((x) => bands.update(x)).at(-1);
 * // { middle: 2.5, upper: 4.736…, lower: 0.263… } (σ = √1.25)
 */
export class BollingerBands implements StreamingIndicator<number, Bands> {
  readonly warmupPeriod: number;
  readonly multiplier: number;
  private readonly period: number;
  private readonly window: Float64Array;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next input goes to; once full it holds the oldest input. */
  private next = 0;
  /** Subtracted from every input before it enters `mean` and `squares`. */
  private shift = 0;
  /** Mean of the window's inputs minus `shift`. */
  private mean = 0;
  /** Sum of squared deviations from the mean over the window. */
  private squares = 0;
  /** The largest `squares` since the last recompute: the scale of its rounding error. */
  private peak = 0;
  private current: Bands | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousShift = 0;
  private previousMean = 0;
  private previousSquares = 0;
  private previousPeak = 0;
  private previousEvicted = 0;
  private previousResult: Bands | null = null;

  /**
   * @param period the window length in inputs; a positive integer (Bollinger used 20).
   * @param multiplier the band width in standard deviations; a positive finite number.
   */
  constructor(period = 20, multiplier = 2) {
    this.period = assertPeriod('BollingerBands', period);
    this.multiplier = assertMultiplier('BollingerBands', multiplier);
    this.warmupPeriod = this.period;
    this.window = new Float64Array(this.period);
  }

  /** The latest bands, `null` until warm. */
  get result(): Bands | null {
    return this.current;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new bands (or `null` while warming up). */
  update(value: number): Bands | null {
    assertInput('BollingerBands', value);
    const period = this.period;
    const evicted = this.window[this.next]!;
    this.previousShift = this.shift;
    this.previousMean = this.mean;
    this.previousSquares = this.squares;
    this.previousPeak = this.peak;
    this.previousEvicted = evicted;
    this.previousResult = this.current;
    if (this.count === 0) this.shift = value;
    const mean = this.mean;
    const entering = value - this.shift;
    if (this.count < period) {
      const delta = entering - mean;
      this.mean = mean + delta / (this.count + 1);
      this.squares += delta * (entering - this.mean);
      if (this.squares > this.peak) this.peak = this.squares;
    } else {
      const leaving = evicted - this.shift;
      const change = entering - leaving;
      this.mean = mean + change / period;
      this.squares += change * (entering - this.mean + leaving - mean);
    }
    this.window[this.next] = value;
    this.next = this.next + 1 === period ? 0 : this.next + 1;
    this.count += 1;
    if (this.next === 0) this.recompute();
    else if (this.count > period) {
      // An input far from the rest (an outlier) makes `squares` large; its rounding error stays
      // ~ε·peak after that input leaves and the true value drops back, so then the window is
      // summed again.
      if (this.squares > this.peak) this.peak = this.squares;
      else if (this.squares < this.peak * CANCELLED) this.recompute();
    }
    if (this.count < period) return this.current;
    const middle = this.shift + this.mean;
    const deviation = this.squares > 0 ? this.multiplier * Math.sqrt(this.squares / period) : 0;
    this.current = Object.freeze({ middle, upper: middle + deviation, lower: middle - deviation });
    return this.current;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed bands. */
  replace(value: number): Bands | null {
    assertInput('BollingerBands', value);
    if (this.count === 0) return this.update(value);
    this.next = this.next === 0 ? this.period - 1 : this.next - 1;
    this.window[this.next] = this.previousEvicted;
    this.count -= 1;
    this.shift = this.previousShift;
    this.mean = this.previousMean;
    this.squares = this.previousSquares;
    this.peak = this.previousPeak;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.fill(0);
    this.count = 0;
    this.next = 0;
    this.shift = 0;
    this.mean = 0;
    this.squares = 0;
    this.peak = 0;
    this.current = null;
    this.previousShift = 0;
    this.previousMean = 0;
    this.previousSquares = 0;
    this.previousPeak = 0;
    this.previousEvicted = 0;
    this.previousResult = null;
  }

  /**
   * Recomputes mean and squared deviations from the full window (corrected two-pass), shifted by
   * the window's plain mean.
   */
  private recompute(): void {
    const window = this.window;
    const period = this.period;
    let sum = 0;
    for (let i = 0; i < period; i++) sum += window[i]!;
    const shift = sum / period;
    let drift = 0;
    let squares = 0;
    for (let i = 0; i < period; i++) {
      const deviation = window[i]! - shift;
      drift += deviation;
      squares += deviation * deviation;
    }
    this.shift = shift;
    this.mean = drift / period;
    this.squares = squares - (drift * drift) / period;
    this.peak = this.squares;
  }
}
