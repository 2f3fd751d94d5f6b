import { mergeRanges } from '../history/coverage.js';
import type { CoverageRange } from '../history/protocols.js';

/**
 * The contiguous bucket ranges, per (upstream, interval), that history backfill has put into a
 * node cache. Ranges merge when they touch (`start <= previousEnd + interval`).
 */
export class BackfillState {
  readonly #ranges = new Map<string, { interval: number; ranges: CoverageRange[] }>();

  /** Records `[start, end]` (swapped if reversed) for the series. */
  markRange(upstreamId: string, interval: number, start: number, end: number): void {
    const key = `${upstreamId}\u0000${interval}`;
    const entry = this.#ranges.get(key) ?? { interval, ranges: [] };
    const range: CoverageRange = start <= end ? [start, end] : [end, start];
    entry.ranges = mergeRanges([...entry.ranges, range], interval);
    this.#ranges.set(key, entry);
  }

  /** A copy of the ranges recorded for the series, ascending. */
  ranges(upstreamId: string, interval: number): CoverageRange[] {
    return [...(this.#ranges.get(`${upstreamId}\u0000${interval}`)?.ranges ?? [])];
  }

  /** True when one recorded range contains all of `[start, end]`. */
  isComplete(upstreamId: string, interval: number, start: number, end: number): boolean {
    return this.ranges(upstreamId, interval).some(([s, e]) => s <= start && e >= end);
  }

  /** Forgets the series. */
  drop(upstreamId: string, interval: number): void {
    this.#ranges.delete(`${upstreamId}\u0000${interval}`);
  }
}
