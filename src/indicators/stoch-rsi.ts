import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertInput } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';
import { RollingExtremes } from './rolling-extremes.js';
import { RSI } from './rsi.js';

/**
 * Stochastic RSI (Chande & Kroll), in [0, 100]: where the latest RSI sits within the range of the
 * last `stochPeriod` RSI values, `100·(RSI − min)/(max − min)`. RSI is Wilder's ({@link RSI}), first
 * available at input `rsiPeriod + 1`, so the first result comes with input `rsiPeriod + stochPeriod`.
 * When the RSI window is flat (`max = min`) the result is 0, as in TA-Lib and the original qmtl;
 * that includes the last `stochPeriod` inputs being identical, along which {@link RSI} is held
 * exactly constant.
 *
 * No %K/%D smoothing is applied; smooth the result with an {@link SMA} if you want it.
 * Differences from the original qmtl `stoch_rsi(window)`: that uses one window for both stages and
 * a simple (not Wilder) RSI recomputed over each slice of the last `2·window` values. trading-signals'
 * `StochasticRSI` gives the same value as a fraction in [0, 1] (but 100 on a flat window).
 *
 * @example
 * const stochRsi = new StochRSI(2, 3);
 * [1, 2, 1, 3, 2, 4].map((x) => stochRsi.update(x));
 * // [null, null, null, null, 0, 92.3…] (RSI 50, 83.3…, 50, 80.8…)
 */
export class StochRSI implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly rsi: RSI;
  private readonly window: RollingExtremes;
  private current: number | null = null;

  /**
   * @param rsiPeriod the RSI period; a positive integer.
   * @param stochPeriod the number of RSI values whose range is taken; a positive integer.
   */
  constructor(rsiPeriod = 14, stochPeriod = 14) {
    const periods = { rsiPeriod, stochPeriod };
    for (const [name, value] of Object.entries(periods)) {
      if (!(typeof value === 'number' && Number.isSafeInteger(value) && value > 0)) {
        throw new QmtlError(
          ErrorCode.InvalidArgument,
          `StochRSI ${name} must be a positive integer, got ${quote(value)}`,
        );
      }
    }
    this.rsi = new RSI(rsiPeriod);
    this.window = new RollingExtremes(stochPeriod, 'StochRSI');
    this.warmupPeriod = rsiPeriod + stochPeriod;
  }

  /** The latest stochastic RSI, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `rsiPeriod + stochPeriod` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new stochastic RSI (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('StochRSI', value);
    const rsi = this.rsi.update(value);
    if (rsi === null) return null;
    this.window.push(rsi);
    return this.evaluate(rsi);
  }

  /** Replaces the newest input (a late correction) and returns the recomputed stochastic RSI. */
  replace(value: number): number | null {
    assertInput('StochRSI', value);
    // Whether RSI is warm depends only on how many inputs it has seen, so a non-null corrected RSI
    // means the replaced input's RSI was pushed too (and replace before any update is an update).
    const rsi = this.rsi.replace(value);
    if (rsi === null) return null;
    this.window.replaceNewest(rsi);
    return this.evaluate(rsi);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.rsi.reset();
    this.window.reset();
    this.current = null;
  }

  private evaluate(rsi: number): number | null {
    const window = this.window;
    if (!window.isFull) return (this.current = null);
    const min = window.min();
    const range = window.max() - min;
    // Dividing before scaling keeps the top of the range at exactly 100.
    return (this.current = range > 0 ? 100 * ((rsi - min) / range) : 0);
  }
}
