import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertBar, assertPeriod } from './assert-input.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';

/** What {@link VWAP} reads from a bar. */
export type VwapBar = Pick<PriceBar, 'high' | 'low' | 'close' | 'volume'>;

const READS = ['high', 'low', 'close', 'volume'] as const;

/**
 * Volume-weighted average price of the typical price tp = (high + low + close)/3:
 * `Σ tp·v / Σ v` over the last `period` bars, or over every bar since the first when no period is
 * given (the cumulative VWAP of trading-signals and technicalindicators). Warm-up 1.
 *
 * When the bars summed have no volume at all (Σ v = 0) there is no traded price to average; the
 * result is then the newest bar's typical price, so a warm VWAP never goes back to `null`.
 * (trading-signals' `VWAP` returns `null` for a zero-volume bar and leaves its sums alone;
 * technicalindicators' gives NaN until the first traded bar; the original qmtl `vwap` returned
 * None.)
 *
 * The sums are compensated (each keeps the exact rounding errors of its additions), so they do
 * not drift over millions of bars, even when a huge bar enters and later leaves the window;
 * whether any volume is left in the window is decided by an exact count of bars with volume > 0,
 * never by a rounded sum. The newest bar stays out of the sums until the next one arrives, which
 * makes `replace` exact and cheap: it only overwrites that bar.
 *
 * The original qmtl `vwap(price, volume, window)` weighted one price series (usually the close)
 * and needed `window` bars; this one reads the bar and uses the textbook typical price.
 * Volumes must be finite and ≥ 0; prices finite.
 *
 * @example
 * const vwap = new VWAP(2);
 * [
 *   { high: 11, low: 9, close: 10, volume: 100 }, // tp 10
 *   { high: 13, low: 11, close: 12, volume: 300 }, // tp 12
 *   { high: 15, low: 13, close: 14, volume: 100 }, // tp 14
 * ].map((bar) => vwap.update(bar)); // [10, 11.5, 12.5]
 */
export class VWAP implements StreamingIndicator<VwapBar> {
  readonly warmupPeriod = 1;
  /** The window length in bars, or `null` for the cumulative VWAP. */
  readonly period: number | null;
  /** tp·v and v of the window's bars, the newest included (rolling VWAP only). */
  private readonly priceVolumes: Float64Array;
  private readonly volumes: Float64Array;
  /** The ring slot the next bar goes to; once full it holds the oldest bar. */
  private next = 0;
  /** True once the ring has been filled, so each new bar evicts one. */
  private filled = false;
  // Σ tp·v and Σ v of the window's bars before the newest, each with its compensation, and (rolling
  // VWAP only) how many of those bars have volume > 0. The newest bar is kept apart ("pending") so that
  // replace() only has to overwrite it: the sums never hold it, so no state needs restoring.
  private priceVolumeSum = 0;
  private priceVolumeCompensation = 0;
  private volumeSum = 0;
  private volumeCompensation = 0;
  private traded = 0;
  private pendingPriceVolume = 0;
  private pendingVolume = 0;
  // The VWAP as a plain double plus a flag: a number-or-null field would box every new value.
  private current = 0;
  private warm = false;

  /** @param period the window length in bars (a positive integer); omit for the cumulative VWAP. */
  constructor(period?: number) {
    this.period = period === undefined ? null : assertPeriod('VWAP', period);
    this.priceVolumes = new Float64Array(this.period ?? 0);
    this.volumes = new Float64Array(this.period ?? 0);
  }

  /** The latest VWAP, `null` before the first bar. */
  get result(): number | null {
    return this.warm ? this.current : null;
  }

  /** True once a bar has been seen. */
  get isWarm(): boolean {
    return this.warm;
  }

  /** Adds the next bar and returns the new VWAP. */
  update(bar: VwapBar): number | null {
    const typicalPrice = checkedTypicalPrice(bar);
    const volume = bar.volume;
    const priceVolume = typicalPrice * volume;
    // Fold the previous bar into the sums (zeros before the first bar: an exact no-op).
    const pendingVolume = this.pendingVolume;
    this.add(this.pendingPriceVolume, pendingVolume);
    const { period } = this;
    if (period !== null) {
      if (pendingVolume > 0) this.traded += 1;
      const slot = this.next;
      // The bar `period` back leaves the window as this one enters.
      if (this.filled) {
        const evicted = this.volumes[slot]!;
        this.add(-this.priceVolumes[slot]!, -evicted);
        if (evicted > 0) this.traded -= 1;
      }
      this.priceVolumes[slot] = priceVolume;
      this.volumes[slot] = volume;
      if (slot + 1 < period) this.next = slot + 1;
      else {
        this.next = 0;
        this.filled = true;
      }
    }
    return this.setPending(typicalPrice, priceVolume, volume);
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed VWAP. */
  replace(bar: VwapBar): number | null {
    const typicalPrice = checkedTypicalPrice(bar);
    if (!this.warm) return this.update(bar);
    const volume = bar.volume;
    const priceVolume = typicalPrice * volume;
    const { period } = this;
    if (period !== null) {
      const slot = this.next === 0 ? period - 1 : this.next - 1;
      this.priceVolumes[slot] = priceVolume;
      this.volumes[slot] = volume;
    }
    return this.setPending(typicalPrice, priceVolume, volume);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.priceVolumes.fill(0);
    this.volumes.fill(0);
    this.next = 0;
    this.filled = false;
    this.priceVolumeSum = 0;
    this.priceVolumeCompensation = 0;
    this.volumeSum = 0;
    this.volumeCompensation = 0;
    this.traded = 0;
    this.pendingPriceVolume = 0;
    this.pendingVolume = 0;
    this.current = 0;
    this.warm = false;
  }

  /**
   * Makes the bar the pending one and returns the VWAP of the summed bars and it: its typical
   * price when none of them has volume.
   */
  private setPending(typicalPrice: number, priceVolume: number, volume: number): number {
    this.pendingPriceVolume = priceVolume;
    this.pendingVolume = volume;
    this.warm = true;
    // No volume at all: in a rolling window, no traded bar left; cumulatively, a sum of volumes
    // (all ≥ 0) is exactly 0 only when every one is.
    if (volume === 0 && (this.period === null ? this.volumeSum === 0 : this.traded === 0)) {
      return (this.current = typicalPrice);
    }
    return (this.current =
      (this.priceVolumeSum + this.priceVolumeCompensation + priceVolume) /
      (this.volumeSum + this.volumeCompensation + volume));
  }

  /**
   * Adds one bar's tp·v and v to the sums (negated to take a bar out), each compensation
   * collecting the exact rounding error of the addition (Knuth's two-sum, branch-free), so that
   * `sum + compensation` tracks the exact total.
   */
  private add(priceVolume: number, volume: number): void {
    let sum = this.priceVolumeSum;
    let total = sum + priceVolume;
    let added = total - sum;
    this.priceVolumeCompensation += sum - (total - added) + (priceVolume - added);
    this.priceVolumeSum = total;
    sum = this.volumeSum;
    total = sum + volume;
    added = total - sum;
    this.volumeCompensation += sum - (total - added) + (volume - added);
    this.volumeSum = total;
  }
}

/**
 * The typical price of a bar, once the bar is checked with as few operations as possible (the hot
 * path): one finiteness test of tp·v covers all four fields, since a NaN or infinite one makes it
 * NaN or infinite; two comparisons check the bar is consistent. {@link rejectVolumeBar} explains
 * a failure.
 */
function checkedTypicalPrice(bar: VwapBar): number {
  if (typeof bar !== 'object' || bar === null) rejectVolumeBar('VWAP', bar, READS);
  const { high, low, close, volume } = bar;
  const typicalPrice = (high + low + close) / 3;
  if (
    typeof high !== 'number' ||
    typeof low !== 'number' ||
    typeof close !== 'number' ||
    typeof volume !== 'number' ||
    !(volume >= 0 && Number.isFinite(typicalPrice * volume)) ||
    // A consistent bar (low ≤ close ≤ high, so low ≤ high too), as every bar indicator asks.
    !(low <= close && close <= high)
  ) {
    rejectVolumeBar('VWAP', bar, READS);
  }
  return typicalPrice;
}

/**
 * Throws the error for a bar that failed a bar indicator's fast check: the first of its `fields`
 * that is not a finite number, else a negative volume, else an overflowing tp·v.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `VWAP input volume must be ≥ 0, got -5`.
 */
export function rejectVolumeBar(indicator: string, bar: unknown, fields: readonly string[]): never {
  assertBar(indicator, bar, fields);
  const volume = (bar as { volume: number }).volume;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    volume < 0
      ? `${indicator} input volume must be ≥ 0, got ${volume}`
      : `${indicator} input overflows: typical price × volume is not finite for ${quote(bar)}`,
  );
}
