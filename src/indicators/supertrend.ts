import { assertPeriod } from './assert-input.js';
import { ATR, assertMultiplier, assertRangeBar, type RangeBar } from './atr.js';
import type { StreamingIndicator } from './indicator.js';

/** The trailing stop of a {@link SuperTrend} and the trend it follows. */
export interface SuperTrendResult {
  /** The final lower band in an uptrend, the final upper band in a downtrend. */
  readonly value: number;
  /** 1 for an uptrend, −1 for a downtrend. */
  readonly direction: 1 | -1;
}

/**
 * SuperTrend (Olivier Seban): an ATR trailing stop that flips sides when the close crosses it.
 *
 * With `hl2 = (high + low)/2` and Wilder's {@link ATR} over `period` bars, the basic bands are
 * `hl2 ± multiplier·ATR`. The final bands ratchet: the final upper band is the basic upper band if
 * that is below the previous final upper band or the previous close was above it, else the previous
 * final upper band; the final lower band mirrors this (basic lower if above the previous final
 * lower or the previous close was below it). The trend turns up when the close is above the
 * previous final upper band and down when it is below the previous final lower band; otherwise it
 * stays. `value` is the final lower band in an uptrend and the final upper band in a downtrend.
 *
 * The state carried between bars is the previous close, both final bands and the direction. The
 * first warm bar (bar `period`) has no previous bands: its final bands are its basic bands, they
 * also stand in for the previous ones, and the trend starts up, turning down at once only if that
 * bar closes below its own lower band (as the original TradingView script, `trend = 1`, does).
 *
 * trading-signals' `SuperTrend` ratchets the bands the same way but compares the close with the
 * current final bands, and starts down; its directions (and so its values) can differ near flips.
 *
 * @example
 * const trend = new SuperTrend(1, 1);
 * trend.update({ high: 11, low: 9, close: 10 }); // { value: 8, direction: 1 } (bands 12 / 8)
 * trend.update({ high: 8, low: 6, close: 6.5 }); // { value: 11, direction: -1 } (6.5 < 8; bands 11 / 8)
 */
export class SuperTrend implements StreamingIndicator<RangeBar, SuperTrendResult> {
  readonly warmupPeriod: number;
  readonly multiplier: number;
  private readonly atr: ATR;
  private hasBands = false;
  private close = 0;
  private upper = 0;
  private lower = 0;
  private direction: 1 | -1 = 1;
  private current: SuperTrendResult | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousHasBands = false;
  private previousClose = 0;
  private previousUpper = 0;
  private previousLower = 0;
  private previousDirection: 1 | -1 = 1;
  private previousResult: SuperTrendResult | null = null;

  /**
   * @param period bars of the ATR; a positive integer.
   * @param multiplier ATRs between `hl2` and each basic band; a positive finite number.
   */
  constructor(period = 10, multiplier = 3) {
    assertPeriod('SuperTrend', period);
    this.multiplier = assertMultiplier('SuperTrend', multiplier);
    this.warmupPeriod = period;
    this.atr = new ATR(period);
  }

  /** The latest stop and trend, `null` until warm. */
  get result(): SuperTrendResult | null {
    return this.current;
  }

  /** True once `period` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new stop and trend (or `null` while warming up). */
  update(bar: RangeBar): SuperTrendResult | null {
    assertRangeBar('SuperTrend', bar);
    this.save();
    return this.advance(bar, this.atr.update(bar));
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed stop and trend. */
  replace(bar: RangeBar): SuperTrendResult | null {
    assertRangeBar('SuperTrend', bar);
    this.hasBands = this.previousHasBands;
    this.close = this.previousClose;
    this.upper = this.previousUpper;
    this.lower = this.previousLower;
    this.direction = this.previousDirection;
    this.current = this.previousResult;
    return this.advance(bar, this.atr.replace(bar));
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.atr.reset();
    this.hasBands = false;
    this.close = 0;
    this.upper = 0;
    this.lower = 0;
    this.direction = 1;
    this.current = null;
    this.save();
  }

  private save(): void {
    this.previousHasBands = this.hasBands;
    this.previousClose = this.close;
    this.previousUpper = this.upper;
    this.previousLower = this.lower;
    this.previousDirection = this.direction;
    this.previousResult = this.current;
  }

  /** Moves the bands and the trend on by one bar, given that bar's ATR. */
  private advance(bar: RangeBar, atr: number | null): SuperTrendResult | null {
    const { high, low, close } = bar;
    if (atr === null) {
      this.close = close;
      return null;
    }
    // Halves first: (high + low)/2 overflows for highs and lows near 1e308; this is the same double.
    const middle = 0.5 * high + 0.5 * low;
    const offset = this.multiplier * atr;
    const basicUpper = middle + offset;
    const basicLower = middle - offset;
    let upper = basicUpper;
    let lower = basicLower;
    let previousUpper = basicUpper;
    let previousLower = basicLower;
    if (this.hasBands) {
      previousUpper = this.upper;
      previousLower = this.lower;
      if (!(basicUpper < previousUpper || this.close > previousUpper)) upper = previousUpper;
      if (!(basicLower > previousLower || this.close < previousLower)) lower = previousLower;
    }
    if (this.direction === -1) {
      if (close > previousUpper) this.direction = 1;
    } else if (close < previousLower) {
      this.direction = -1;
    }
    this.hasBands = true;
    this.close = close;
    this.upper = upper;
    this.lower = lower;
    this.current = Object.freeze({ value: this.direction === 1 ? lower : upper, direction: this.direction });
    return this.current;
  }
}
