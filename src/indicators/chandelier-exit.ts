import { assertPeriod } from './assert-input.js';
import { ATR, assertMultiplier, assertRangeBar, type RangeBar } from './atr.js';
import type { StreamingIndicator } from './indicator.js';
import { RollingExtremes } from './rolling-extremes.js';

/** The two stop levels of a {@link ChandelierExit}. */
export interface ChandelierExitResult {
  /** Stop for long positions: highest high − multiplier·ATR. */
  readonly long: number;
  /** Stop for short positions: lowest low + multiplier·ATR. */
  readonly short: number;
}

/**
 * Chandelier Exit (Charles Le Beau): trailing stops hung from the extremes of the last `period`
 * bars, `long = highest high − multiplier·ATR` and `short = lowest low + multiplier·ATR`, with
 * Wilder's {@link ATR} over the same `period`. `null` until `period` bars.
 *
 * The highest high and lowest low come from one {@link RollingExtremes} window (O(1) amortised).
 *
 * @example
 * const exit = new ChandelierExit(2, 1);
 * exit.update({ high: 11, low: 9, close: 10 }); // null
 * exit.update({ high: 13, low: 11, close: 12 }); // { long: 10.5, short: 11.5 } (ATR 2.5)
 */
export class ChandelierExit implements StreamingIndicator<RangeBar, ChandelierExitResult> {
  readonly warmupPeriod: number;
  readonly multiplier: number;
  private readonly atr: ATR;
  /** Highest high and lowest low of the last `period` bars. */
  private readonly range: RollingExtremes;
  private current: ChandelierExitResult | null = null;

  /**
   * @param period bars for the extremes and the ATR; a positive integer (Le Beau used 22).
   * @param multiplier ATRs between the extreme and the stop; a positive finite number.
   */
  constructor(period = 22, multiplier = 3) {
    assertPeriod('ChandelierExit', period);
    this.multiplier = assertMultiplier('ChandelierExit', multiplier);
    this.warmupPeriod = period;
    this.atr = new ATR(period);
    this.range = new RollingExtremes(period, 'ChandelierExit');
  }

  /** The latest stops, `null` until warm. */
  get result(): ChandelierExitResult | null {
    return this.current;
  }

  /** True once `period` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new stops (or `null` while warming up). */
  update(bar: RangeBar): ChandelierExitResult | null {
    assertRangeBar('ChandelierExit', bar);
    this.range.pushRange(bar.high, bar.low);
    return this.settle(this.atr.update(bar));
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed stops. */
  replace(bar: RangeBar): ChandelierExitResult | null {
    assertRangeBar('ChandelierExit', bar);
    if (this.range.count === 0) return this.update(bar);
    this.range.replaceNewestRange(bar.high, bar.low);
    return this.settle(this.atr.replace(bar));
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.atr.reset();
    this.range.reset();
    this.current = null;
  }

  /** The stops from the windows and the ATR; before warm-up there are none. */
  private settle(atr: number | null): ChandelierExitResult | null {
    if (atr === null) return null;
    const offset = this.multiplier * atr;
    this.current = Object.freeze({ long: this.range.max() - offset, short: this.range.min() + offset });
    return this.current;
  }
}
