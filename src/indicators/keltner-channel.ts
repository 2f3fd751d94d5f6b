import { assertPeriod } from './assert-input.js';
import { ATR, assertMultiplier, assertRangeBar, type RangeBar } from './atr.js';
import type { Bands } from './bollinger-bands.js';
import { EMA } from './ema.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Keltner Channel (Linda Raschke's ATR form): `middle` is the {@link EMA} of the close over
 * `emaPeriod` bars (seeded with the simple mean of the first `emaPeriod` closes), and
 * `upper`/`lower` are `middle ± multiplier·ATR` with Wilder's {@link ATR} over `atrPeriod` bars.
 * `null` until both are warm, i.e. for the first `max(emaPeriod, atrPeriod) − 1` bars.
 *
 * @example
 * const channel = new KeltnerChannel(2, 2, 1);
 * channel.update({ high: 11, low: 9, close: 10 }); // null
 * channel.update({ high: 13, low: 11, close: 12 }); // { middle: 11, upper: 13.5, lower: 8.5 }
 */
export class KeltnerChannel implements StreamingIndicator<RangeBar, Bands> {
  readonly warmupPeriod: number;
  readonly multiplier: number;
  private readonly ema: EMA;
  private readonly atr: ATR;
  private current: Bands | null = null;

  /**
   * @param emaPeriod span of the middle line's EMA of closes; a positive integer.
   * @param atrPeriod bars of the ATR; a positive integer.
   * @param multiplier ATRs between the middle line and each band; a positive finite number.
   */
  constructor(emaPeriod = 20, atrPeriod = 10, multiplier = 2) {
    assertPeriod('KeltnerChannel ema', emaPeriod);
    assertPeriod('KeltnerChannel atr', atrPeriod);
    this.multiplier = assertMultiplier('KeltnerChannel', multiplier);
    this.warmupPeriod = Math.max(emaPeriod, atrPeriod);
    this.ema = new EMA(emaPeriod);
    this.atr = new ATR(atrPeriod);
  }

  /** The latest channel, `null` until warm. */
  get result(): Bands | null {
    return this.current;
  }

  /** True once `max(emaPeriod, atrPeriod)` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new channel (or `null` while warming up). */
  update(bar: RangeBar): Bands | null {
    assertRangeBar('KeltnerChannel', bar);
    return this.settle(this.ema.update(bar.close), this.atr.update(bar));
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed channel. */
  replace(bar: RangeBar): Bands | null {
    assertRangeBar('KeltnerChannel', bar);
    return this.settle(this.ema.replace(bar.close), this.atr.replace(bar));
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.ema.reset();
    this.atr.reset();
    this.current = null;
  }

  /** The channel from the EMA and the ATR; none until both are warm. */
  private settle(middle: number | null, atr: number | null): Bands | null {
    if (middle === null || atr === null) return null;
    const offset = this.multiplier * atr;
    this.current = Object.freeze({ middle, upper: middle + offset, lower: middle - offset });
    return this.current;
  }
}
