import type { RangeBar } from './atr.js';
import { assertBar, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';
import { RollingExtremes } from './rolling-extremes.js';

/** The result of {@link KDJ}. */
export interface KDJResult {
  readonly k: number;
  readonly d: number;
  readonly j: number;
}

const FIELDS = ['high', 'low', 'close'] as const;

/**
 * The KDJ oscillator: a stochastic %K/%D with the usual 1/3 smoothing, plus J = 3K − 2D.
 *
 * RSV = `100·(close − LL)/(HH − LL)`, with HH and LL the highest high and lowest low of the last
 * `period` bars (0 when `HH = LL`, as in TA-Lib's stochastic). Then `K = (2/3)·K₋₁ + (1/3)·RSV`,
 * `D = (2/3)·D₋₁ + (1/3)·K`, both seeded at 50, and `J = 3K − 2D`. The first result (with bar
 * `period`) already applies one smoothing step to the seeds.
 *
 * Differences: the original qmtl `kdj` returns K = D = J = RSV with no smoothing. trading-signals'
 * `StochasticOscillator` and technicalindicators' `Stochastic` smooth with simple moving averages
 * instead; their raw %K (no slowing) is this RSV.
 *
 * @example
 * const kdj = new KDJ(2);
 * kdj.update({ high: 10, low: 8, close: 9 }); // null
 * kdj.update({ high: 12, low: 9, close: 11 }); // { k: 58.33…, d: 52.77…, j: 69.44… } (RSV 75)
 */
export class KDJ implements StreamingIndicator<RangeBar, KDJResult> {
  readonly warmupPeriod: number;
  /** Highest high and lowest low of the last `period` bars. */
  private readonly range: RollingExtremes;
  private k = 50;
  private d = 50;
  private current: KDJResult | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousK = 50;
  private previousD = 50;

  /** @param period the look-back in bars for the highest high and lowest low; a positive integer. */
  constructor(period = 9) {
    this.warmupPeriod = assertPeriod('KDJ', period);
    this.range = new RollingExtremes(period, 'KDJ');
  }

  /** The latest `{ k, d, j }`, `null` until warm. */
  get result(): KDJResult | null {
    return this.current;
  }

  /** True once `period` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the new `{ k, d, j }` (or `null` while warming up). */
  update(bar: RangeBar): KDJResult | null {
    assertBar('KDJ', bar, FIELDS);
    this.previousK = this.k;
    this.previousD = this.d;
    this.range.pushRange(bar.high, bar.low);
    return this.evaluate(bar.close);
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed `{ k, d, j }`. */
  replace(bar: RangeBar): KDJResult | null {
    assertBar('KDJ', bar, FIELDS);
    this.k = this.previousK;
    this.d = this.previousD;
    this.range.replaceNewestRange(bar.high, bar.low);
    return this.evaluate(bar.close);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.range.reset();
    this.k = 50;
    this.d = 50;
    this.previousK = 50;
    this.previousD = 50;
    this.current = null;
  }

  private evaluate(close: number): KDJResult | null {
    if (!this.range.isFull) return (this.current = null);
    const lowest = this.range.min();
    const range = this.range.max() - lowest;
    // Dividing before scaling keeps the top of the range at exactly 100.
    const rsv = range > 0 ? 100 * ((close - lowest) / range) : 0;
    const k = (2 * this.k + rsv) / 3;
    const d = (2 * this.d + k) / 3;
    this.k = k;
    this.d = d;
    return (this.current = Object.freeze({ k, d, j: 3 * k - 2 * d }));
  }
}
