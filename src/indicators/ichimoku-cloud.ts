import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertBar } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';
import type { RangeBar } from './atr.js';

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
 * Mid-range `(highest high + lowest low)/2` of the last `period` bars, O(1) amortised per bar.
 *
 * Unlike two `RollingExtremes` (each tracking both extremes of one series), this keeps one
 * monotonic deque per side — highs for the max, lows for the min — with the values stored in the
 * deques and wrap-around by comparison instead of `%`: the six windows of the cloud are its whole
 * cost. `replaceNewest` rebuilds the deques from the window, O(period).
 */
class MidRange {
  private readonly period: number;
  /** The last `period` bars' highs and lows, as rings; `slot` is where the next bar goes. */
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  private slot = 0;
  /** Bars pushed since construction or `reset()`; also the index of the next bar. */
  private pushed = 0;
  // Deques as rings of capacity `period`: bar indices and values, highs strictly decreasing and
  // lows strictly increasing from head to tail.
  private readonly maxIndex: Float64Array;
  private readonly maxValue: Float64Array;
  private readonly minIndex: Float64Array;
  private readonly minValue: Float64Array;
  private maxHead = 0;
  private maxLength = 0;
  private minHead = 0;
  private minLength = 0;

  constructor(period: number) {
    this.period = period;
    this.highs = new Float64Array(period);
    this.lows = new Float64Array(period);
    this.maxIndex = new Float64Array(period);
    this.maxValue = new Float64Array(period);
    this.minIndex = new Float64Array(period);
    this.minValue = new Float64Array(period);
  }

  value(): number {
    return (this.maxValue[this.maxHead]! + this.minValue[this.minHead]!) / 2;
  }

  push(high: number, low: number): void {
    const slot = this.slot;
    this.highs[slot] = high;
    this.lows[slot] = low;
    this.slot = slot + 1 === this.period ? 0 : slot + 1;
    this.enter(this.pushed++, high, low);
  }

  replaceNewest(high: number, low: number): void {
    const period = this.period;
    const newest = this.slot === 0 ? period - 1 : this.slot - 1;
    this.highs[newest] = high;
    this.lows[newest] = low;
    this.maxLength = 0;
    this.minLength = 0;
    const count = Math.min(this.pushed, period);
    let slot = newest + 1 - count;
    if (slot < 0) slot += period;
    for (let index = this.pushed - count; index < this.pushed; index++) {
      this.enter(index, this.highs[slot]!, this.lows[slot]!);
      slot = slot + 1 === period ? 0 : slot + 1;
    }
  }

  reset(): void {
    this.slot = 0;
    this.pushed = 0;
    this.maxHead = 0;
    this.maxLength = 0;
    this.minHead = 0;
    this.minLength = 0;
  }

  private enter(index: number, high: number, low: number): void {
    const period = this.period;
    const expired = index - period;
    let head = this.maxHead;
    let length = this.maxLength;
    if (length > 0 && this.maxIndex[head]! <= expired) {
      head = head + 1 === period ? 0 : head + 1;
      length--;
    }
    let back = head + length - 1;
    if (back >= period) back -= period;
    while (length > 0 && this.maxValue[back]! <= high) {
      length--;
      back = back === 0 ? period - 1 : back - 1;
    }
    let at = head + length;
    if (at >= period) at -= period;
    this.maxIndex[at] = index;
    this.maxValue[at] = high;
    this.maxHead = head;
    this.maxLength = length + 1;

    head = this.minHead;
    length = this.minLength;
    if (length > 0 && this.minIndex[head]! <= expired) {
      head = head + 1 === period ? 0 : head + 1;
      length--;
    }
    back = head + length - 1;
    if (back >= period) back -= period;
    while (length > 0 && this.minValue[back]! >= low) {
      length--;
      back = back === 0 ? period - 1 : back - 1;
    }
    at = head + length;
    if (at >= period) at -= period;
    this.minIndex[at] = index;
    this.minValue[at] = low;
    this.minHead = head;
    this.minLength = length + 1;
  }
}

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
  private readonly tenkan: MidRange;
  private readonly kijun: MidRange;
  private readonly senkouB: MidRange;
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
    this.tenkan = new MidRange(tenkan);
    this.kijun = new MidRange(kijun);
    this.senkouB = new MidRange(senkouB);
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
    this.tenkan.push(high, low);
    this.kijun.push(high, low);
    this.senkouB.push(high, low);
    this.count += 1;
    return this.evaluate(bar.close);
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed lines. */
  replace(bar: RangeBar): IchimokuResult | null {
    assertBar('IchimokuCloud', bar, FIELDS);
    if (this.count === 0) return this.update(bar);
    const { high, low } = bar;
    this.tenkan.replaceNewest(high, low);
    this.kijun.replaceNewest(high, low);
    this.senkouB.replaceNewest(high, low);
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
    const tenkan = this.tenkan.value();
    const kijun = this.kijun.value();
    // The ring holds displacement + 1 slots, so writing this bar's spans (also on a replace)
    // never overwrites the spans of displacement bars ago that this bar reads.
    const slots = this.displacement + 1;
    this.spansA[this.count % slots] = (tenkan + kijun) / 2;
    this.spansB[this.count % slots] = this.senkouB.value();
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
