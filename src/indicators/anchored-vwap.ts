import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { PriceBar, StreamingIndicator } from './indicator.js';
import { rejectVolumeBar } from './vwap.js';

/** What {@link AnchoredVWAP} reads from a bar: prices, volume and the bar's `time`. */
export type AnchoredVwapBar = Pick<PriceBar, 'high' | 'low' | 'close' | 'volume' | 'time'>;

const READS = ['high', 'low', 'close', 'volume', 'time'] as const;

/**
 * Cumulative VWAP from an anchor time: `Σ tp·v / Σ v` over the bars whose `time` (bucket
 * timestamp, epoch seconds) is ≥ `anchorTime`, with tp = (high + low + close)/3. Bars before the
 * anchor are ignored and the result stays `null` until the first bar at or after it. When the
 * anchored bars have no volume at all the result is the newest anchored bar's typical price, as
 * for {@link VWAP}.
 *
 * Warm-up cannot be a count of bars here, since it depends on when the anchor falls.
 * `warmupPeriod` is 1: the number of inputs before the first result when the stream starts at or
 * after the anchor (the contract test's case); earlier bars only delay it. A node running it
 * emits nothing for the bars before the anchor.
 *
 * The original qmtl `anchored_vwap(price, volume, anchor_ts)` weighted one price series (usually
 * the close); this one uses the typical price. Volumes must be finite and ≥ 0; prices and times
 * finite.
 *
 * @example
 * const avwap = new AnchoredVWAP(120);
 * [
 *   { time: 60, high: 11, low: 9, close: 10, volume: 100 }, // before the anchor
 *   { time: 120, high: 13, low: 11, close: 12, volume: 300 }, // tp 12
 *   { time: 180, high: 15, low: 13, close: 14, volume: 100 }, // tp 14
 * ].map((bar) => avwap.update(bar)); // [null, 12, 12.5]
 */
export class AnchoredVWAP implements StreamingIndicator<AnchoredVwapBar> {
  readonly warmupPeriod = 1;
  /** The first bucket timestamp (epoch seconds) included. */
  readonly anchorTime: number;
  /** Bars seen since construction or `reset()`, anchored or not. */
  private count = 0;
  // The anchored bars before the newest: Σ tp·v and Σ v, each with its compensation, how many
  // have volume > 0, whether there is any, and the typical price of the last. The newest bar is
  // kept apart ("pending", as in VWAP) so that replace() only has to overwrite it.
  private priceVolumeSum = 0;
  private priceVolumeCompensation = 0;
  private volumeSum = 0;
  private volumeCompensation = 0;
  private traded = 0;
  private anchored = false;
  private lastTypicalPrice = 0;
  /** Whether the newest bar is at or after the anchor; if not, its tp·v and v are 0. */
  private pendingAnchored = false;
  private pendingPriceVolume = 0;
  private pendingVolume = 0;
  private pendingTypicalPrice = 0;
  private current: number | null = null;

  /** @param anchorTime the bucket timestamp (epoch seconds) from which bars are included. */
  constructor(anchorTime: number) {
    if (typeof anchorTime !== 'number' || !Number.isFinite(anchorTime)) {
      const shown = typeof anchorTime === 'number' ? String(anchorTime) : quote(anchorTime);
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `AnchoredVWAP anchorTime must be a finite number of epoch seconds, got ${shown}`,
      );
    }
    this.anchorTime = anchorTime;
  }

  /** The VWAP since the anchor, `null` until a bar at or after it. */
  get result(): number | null {
    return this.current;
  }

  /** True once a bar at or after the anchor has been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next bar and returns the VWAP since the anchor (`null` before it). */
  update(bar: AnchoredVwapBar): number | null {
    checkBar(bar);
    if (this.pendingAnchored) this.commit();
    this.count += 1;
    this.setPending(bar);
    return (this.current = this.vwap());
  }

  /** Replaces the newest bar (a late correction) and returns the recomputed VWAP. */
  replace(bar: AnchoredVwapBar): number | null {
    checkBar(bar);
    if (this.count === 0) return this.update(bar);
    this.setPending(bar);
    return (this.current = this.vwap());
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.priceVolumeSum = 0;
    this.priceVolumeCompensation = 0;
    this.volumeSum = 0;
    this.volumeCompensation = 0;
    this.traded = 0;
    this.anchored = false;
    this.lastTypicalPrice = 0;
    this.pendingAnchored = false;
    this.pendingPriceVolume = 0;
    this.pendingVolume = 0;
    this.pendingTypicalPrice = 0;
    this.current = null;
  }

  private setPending(bar: AnchoredVwapBar): void {
    this.pendingAnchored = bar.time >= this.anchorTime;
    this.pendingTypicalPrice = (bar.high + bar.low + bar.close) / 3;
    this.pendingVolume = this.pendingAnchored ? bar.volume : 0;
    this.pendingPriceVolume = this.pendingTypicalPrice * this.pendingVolume;
  }

  /** Folds the pending (anchored) bar into the sums; each compensation collects the exact rounding error. */
  private commit(): void {
    const priceVolume = this.pendingPriceVolume;
    const volume = this.pendingVolume;
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
    if (volume > 0) this.traded += 1;
    this.anchored = true;
    this.lastTypicalPrice = this.pendingTypicalPrice;
  }

  /** The VWAP of the anchored bars, pending one included; `null` if there are none. */
  private vwap(): number | null {
    if (!this.pendingAnchored && !this.anchored) return null;
    if (this.traded === 0 && this.pendingVolume === 0) {
      return this.pendingAnchored ? this.pendingTypicalPrice : this.lastTypicalPrice;
    }
    return (
      (this.priceVolumeSum + this.priceVolumeCompensation + this.pendingPriceVolume) /
      (this.volumeSum + this.volumeCompensation + this.pendingVolume)
    );
  }
}

/** Checks a bar with plain property reads (the hot path); {@link rejectVolumeBar} explains a failure. */
function checkBar(bar: AnchoredVwapBar): void {
  if (
    typeof bar !== 'object' ||
    bar === null ||
    !(
      Number.isFinite(bar.high) &&
      Number.isFinite(bar.low) &&
      Number.isFinite(bar.close) &&
      Number.isFinite(bar.time) &&
      bar.volume >= 0 &&
      // A consistent bar (low ≤ close ≤ high, so low ≤ high too), as every bar indicator asks.
      bar.low <= bar.close &&
      bar.close <= bar.high &&
      // tp·v must be finite too, as in VWAP: an overflowing product would make the VWAP Infinity.
      Number.isFinite(((bar.high + bar.low + bar.close) / 3) * bar.volume)
    )
  ) {
    rejectVolumeBar('AnchoredVWAP', bar, READS);
  }
}
