import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertBar } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';
import type { RangeBar } from './atr.js';
import { RollingExtremes } from './rolling-extremes.js';

/** The result of {@link IchimokuCloud} at one bar. */
export interface IchimokuResult {
  /** Conversion line: mid-range of the last `tenkan` bars. */
  readonly tenkan: number;
  /** Base line: mid-range of the last `kijun` bars. */
  readonly kijun: number;
  /** Leading span A in effect at this bar: `(tenkan + kijun)/2` of `displacement` bars ago. */
  readonly senkouA: number;
  /** Leading span B in effect at this bar: mid-range of `senkouB` bars, `displacement` bars ago. */
  readonly senkouB: number;
  /** Lagging span: this bar's close (charts draw it `displacement` bars back). */
  readonly chikou: number;
}

const FIELDS = ['high', 'low', 'close'] as const;

/**
 * Ichimoku Kinkō Hyō with the displacement made explicit. At bar t:
 * - `tenkan` = (HH + LL)/2 over the last `tenkan` bars, `kijun` the same over `kijun` bars;
 * - the leading spans are computed as `A = (tenkan + kijun)/2` and `B` = (HH + LL)/2 over `senkouB`
 *   bars, and charts plot them `displacement` bars ahead; the result holds the spans *in effect at
 *   bar t*, i.e. those computed at bar t − displacement, so "price above the cloud" is
 *   `close > max(senkouA, senkouB)` on one result;
 * - `chikou` is bar t's close, which charts plot `displacement` bars back.
 *
 * Warm-up: the spans need `max(tenkan, kijun, senkouB)` bars and then `displacement` more bars to
 * come into effect, so the first result comes with bar `max(tenkan, kijun, senkouB) + displacement`
 * (78 with the defaults). `displacement: 0` gives the spans as computed at bar t, the convention of
 * trading-signals' and technicalindicators' `IchimokuCloud` (which apply no shift). TradingView's
 * script counts the current bar and shifts by `displacement − 1`; pass 25 to match it.
 *
 * Differences from the original qmtl `ichimoku_cloud`: no forward shift, and chikou is the close of
 * 26 bars ago.
 *
 * @example
 * const ichimoku = new IchimokuCloud(1, 2, 2, 1); // tenkan, kijun, senkouB, displacement
 * ichimoku.update({ high: 10, low: 8, close: 9 }); // null
 * ichimoku.update({ high: 12, low: 9, close: 11 }); // null (spans 10.25 and 10 computed, in effect next bar)
 * ichimoku.update({ high: 11, low: 10, close: 10 });
 * // { tenkan: 10.5, kijun: 10.5, senkouA: 10.25, senkouB: 10, chikou: 10 }
 */
export class IchimokuCloud implements StreamingIndicator<RangeBar, IchimokuResult> {
  readonly warmupPeriod: number;
  readonly displacement: number;
  private readonly tenkan: RollingExtremes;
  private readonly kijun: RollingExtremes;
  private readonly senkouB: RollingExtremes;
  /** Bars needed before the spans can be computed: the longest look-back. */
  private readonly spanPeriod: number;
  /** Spans computed at the last `displacement + 1` bars, indexed by bar count. */
  private readonly spansA: Float64Array;
  private readonly spansB: Float64Array;
  /** Bars seen since construction or `reset()`. */
  private count = 0;
  private current: IchimokuResult | null = null;

  /**
   * @param tenkan the conversion line's look-back in bars; a positive integer.
   * @param kijun the base line's look-back in bars; a positive integer.
   * @param senkouB leading span B's look-back in bars; a positive integer.
   * @param displacement how many bars ahead the leading spans are plotted; a non-negative integer.
   */
  constructor(tenkan = 9, kijun = 26, senkouB = 52, displacement = 26) {
    const periods = { tenkan, kijun, senkouB };
    for (const [name, value] of Object.entries(periods)) {
      if (!isInteger(value, 1)) invalid(`${name} must be a positive integer`, value);
    }
    if (!isInteger(displacement, 0)) invalid('displacement must be a non-negative integer', displacement);
    this.tenkan = new RollingExtremes(tenkan, 'IchimokuCloud tenkan');
    this.kijun = new RollingExtremes(kijun, 'IchimokuCloud kijun');
    this.senkouB = new RollingExtremes(senkouB, 'IchimokuCloud senkouB');
    this.displacement = displacement;
    this.spanPeriod = Math.max(tenkan, kijun, senkouB);
    this.warmupPeriod = this.spanPeriod + displacement;
    this.spansA = new Float64Array(displacement + 1);
    this.spansB = new Float64Array(displacement + 1);
  }

  /** The latest lines, `null` until warm. */
  get result(): IchimokuResult | null {
    return this.current;
  }

  /** True once `max(tenkan, kijun, senkouB) + displacement` bars have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the lines in effect at it (or `null` while warming up). */
  update(bar: RangeBar): IchimokuResult | null {
    assertBar('IchimokuCloud', bar, FIELDS);
    const { high, low } = bar;
    this.tenkan.pushRange(high, low);
    this.kijun.pushRange(high, low);
    this.senkouB.pushRange(high, low);
    this.count += 1;
    return this.evaluate(bar.close);
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed lines. */
  replace(bar: RangeBar): IchimokuResult | null {
    assertBar('IchimokuCloud', bar, FIELDS);
    if (this.count === 0) return this.update(bar);
    const { high, low } = bar;
    this.tenkan.replaceNewestRange(high, low);
    this.kijun.replaceNewestRange(high, low);
    this.senkouB.replaceNewestRange(high, low);
    return this.evaluate(bar.close);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.tenkan.reset();
    this.kijun.reset();
    this.senkouB.reset();
    this.spansA.fill(0);
    this.spansB.fill(0);
    this.count = 0;
    this.current = null;
  }

  private evaluate(close: number): IchimokuResult | null {
    if (this.count < this.spanPeriod) return (this.current = null);
    const tenkan = midRange(this.tenkan);
    const kijun = midRange(this.kijun);
    // The ring holds displacement + 1 slots, so writing this bar's spans (also on a replace)
    // never overwrites the spans of displacement bars ago that this bar reads.
    const slots = this.displacement + 1;
    this.spansA[this.count % slots] = 0.5 * tenkan + 0.5 * kijun;
    this.spansB[this.count % slots] = midRange(this.senkouB);
    if (this.count < this.warmupPeriod) return (this.current = null);
    const effective = (this.count - this.displacement) % slots;
    return (this.current = Object.freeze({
      tenkan,
      kijun,
      senkouA: this.spansA[effective]!,
      senkouB: this.spansB[effective]!,
      chikou: close,
    }));
  }
}

function isInteger(value: unknown, minimum: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

function invalid(what: string, value: unknown): never {
  throw new QmtlError(ErrorCode.InvalidArgument, `IchimokuCloud ${what}, got ${quote(value)}`);
}

/**
 * `(highest high + lowest low) / 2` of a window fed with `pushRange`, halving first: the same double
 * (halving is exact above the subnormals), without overflowing for prices near 1e308.
 */
function midRange(window: RollingExtremes): number {
  return 0.5 * window.max() + 0.5 * window.min();
}
