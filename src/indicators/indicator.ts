/**
 * The one contract every streaming indicator follows (O(1) amortised per update):
 * - `update(x)` takes the next input and returns the new result, or `null` while warming up;
 * - `replace(x)` replaces the newest input (a late correction of the current bar) and returns the
 *   recomputed result; before any `update` it behaves like `update`;
 * - `result` is the latest result, `null` until `warmupPeriod` inputs have been seen;
 * - `reset()` returns the indicator to its freshly constructed state.
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
