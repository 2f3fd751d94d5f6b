/**
 * The one contract every streaming indicator follows (O(1) amortised per update):
 * - `update(x)` takes the next input and returns the new result, or `null` while warming up;
 * - `replace(x)` replaces the newest input (a late correction of the current bar) and returns the
 *   recomputed result; before any `update` it behaves like `update`;
 * - `result` is the latest result, `null` until `warmupPeriod` inputs have been seen;
 * - `reset()` returns the indicator to its freshly constructed state.
 *
 * Inputs are numbers (`SMA`, `EMA`, `RSI`, …) or {@link PriceBar}s (`ATR`, `OBV`, …); results are
 * numbers or frozen records of numbers (`BollingerBands` → `{ middle, upper, lower }`). A record
 * result is a new object on every update, so a node may emit it and keep it.
 */
export interface StreamingIndicator<In = number, Out = number> {
  /** Inputs needed before `result` is non-null. */
  readonly warmupPeriod: number;
  /** The latest result, `null` until warm. */
  readonly result: Out | null;
  /** True once `result` is non-null. */
  readonly isWarm: boolean;
  update(value: In): Out | null;
  replace(value: In): Out | null;
  reset(): void;
}

/** The fields of a price bar an indicator may read. */
export type BarField = 'open' | 'high' | 'low' | 'close' | 'volume';

/**
 * One bar as bar-based indicators read it: prices, volume and the bar's bucket timestamp
 * (epoch seconds). Each indicator declares the subset it needs, e.g. `ATR` takes
 * `Pick<PriceBar, 'high' | 'low' | 'close'>`.
 */
export interface PriceBar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Bucket timestamp, epoch seconds. */
  readonly time: number;
}
