import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertBar, assertPeriod } from './assert-input.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';

/** The fields of a bar that range-based indicators (ATR, Keltner, SuperTrend, …) read. */
export type RangeBar = Pick<PriceBar, 'high' | 'low' | 'close'>;

/** The bar fields {@link ATR} and the indicators built on it read, in the order they are checked. */
const RANGE_FIELDS = ['high', 'low', 'close'] as const;

/**
 * Checks a bar's high, low and close: finite numbers, with `low <= close <= high`. The common
 * case costs three `isFinite` tests and two comparisons; only a bad bar goes through
 * `assertBar`, which throws naming the indicator and field.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `ATR input high must be a finite number, got NaN`.
 */
export function assertRangeBar(indicator: string, bar: RangeBar): void {
  if (
    Number.isFinite(bar?.high) &&
    Number.isFinite(bar.low) &&
    Number.isFinite(bar.close) &&
    bar.low <= bar.close &&
    bar.close <= bar.high
  )
    return;
  assertBar(indicator, bar, RANGE_FIELDS);
}

/**
 * Checks a band multiplier: a positive finite number.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `SuperTrend multiplier must be a positive finite number, got 0`.
 */
export function assertMultiplier(indicator: string, multiplier: unknown): number {
  if (typeof multiplier === 'number' && Number.isFinite(multiplier) && multiplier > 0) return multiplier;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `${indicator} multiplier must be a positive finite number, got ${quote(multiplier)}`,
  );
}

/**
 * Wilder's average true range.
 *
 * The true range of a bar is `max(high − low, |high − prevClose|, |low − prevClose|)`; the first bar
 * has no previous close, so its true range is `high − low`. The first ATR is the simple mean of the
 * first `period` true ranges (so the first result comes with bar `period`); after that
 * `atr ← (atr·(period−1) + tr)/period`. This is Wilder's smoothing, not a simple moving average of
 * the true range.
 *
 * TA-Lib's `ATR` (like technicalindicators') gives the first bar no true range: its first value comes
 * one bar later, the mean of the true ranges of bars 2 … period+1, and it converges to ours as the
 * different seed decays by (1 − 1/period) per bar (within 1.4e-10 relative after 20·period bars).
 *
 * @example
 * const atr = new ATR(2);
 * atr.update({ high: 11, low: 9, close: 10 }); // null (tr 2)
 * atr.update({ high: 13, low: 11, close: 12 }); // 2.5 (tr 3, mean of 2 and 3)
 * atr.update({ high: 12, low: 11, close: 11.5 }); // 1.75 (tr 1: (2.5·1 + 1)/2)
 */
export class ATR implements StreamingIndicator<RangeBar, number> {
  readonly warmupPeriod: number;
  private readonly period: number;
  /** Bars seen since construction or `reset()`. */
  private count = 0;
  private lastClose = 0;
  /** Sum of the first `period` true ranges, for the seed. */
  private seedSum = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousLastClose = 0;
  private previousSeedSum = 0;
  private previousResult: number | null = null;

  /** @param period the number of bars smoothed; a positive integer (Wilder used 14). */
  constructor(period = 14) {
    this.period = assertPeriod('ATR', period);
    this.warmupPeriod = this.period;
  }

  /** The latest average true range, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new ATR (or `null` while warming up). */
  update(bar: RangeBar): number | null {
    assertRangeBar('ATR', bar);
    this.previousLastClose = this.lastClose;
    this.previousSeedSum = this.seedSum;
    this.previousResult = this.current;
    const { high, low, close } = bar;
    let range = high - low;
    if (this.count > 0) {
      const up = Math.abs(high - this.lastClose);
      const down = Math.abs(low - this.lastClose);
      if (up > range) range = up;
      if (down > range) range = down;
    }
    this.count += 1;
    this.lastClose = close;
    if (this.current !== null) {
      this.current = (this.current * (this.period - 1) + range) / this.period;
    } else {
      this.seedSum += range;
      if (this.count === this.period) this.current = this.seedSum / this.period;
    }
    return this.current;
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed ATR. */
  replace(bar: RangeBar): number | null {
    assertRangeBar('ATR', bar);
    if (this.count === 0) return this.update(bar);
    this.count -= 1;
    this.lastClose = this.previousLastClose;
    this.seedSum = this.previousSeedSum;
    this.current = this.previousResult;
    return this.update(bar);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.lastClose = 0;
    this.seedSum = 0;
    this.current = null;
    this.previousLastClose = 0;
    this.previousSeedSum = 0;
    this.previousResult = null;
  }
}
