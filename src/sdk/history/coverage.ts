import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { CoverageRange } from './protocols.js';

function assertInterval(interval: number): void {
  if (!(Number.isFinite(interval) && interval > 0)) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `interval must be a positive number of seconds, got ${quote(interval)}`,
    );
  }
}

/**
 * Normalises coverage ranges: swaps reversed pairs, sorts by start and merges ranges that overlap
 * or touch (`start <= previousEnd + interval`), so `[60, 120]` and `[180, 240]` at interval 60
 * become `[60, 240]`.
 * @example mergeRanges([[180, 240], [60, 120]], 60) // [[60, 240]]
 */
export function mergeRanges(ranges: Iterable<CoverageRange>, interval: number): CoverageRange[] {
  assertInterval(interval);
  const sorted = [...ranges]
    .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]))
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1] + interval) {
      last[1] = Math.max(last[1], end);
    } else {
      merged.push([start, end]);
    }
  }
  return merged;
}

/**
 * The inclusive gaps of `[start, end]` that `coverage` does not hold: what a provider still has to
 * fill before a StreamInput can warm up from history. A gap ends one interval before the next
 * covered range starts; coverage outside `[start, end]` is ignored.
 * @example missingRanges([[120, 180]], 0, 300, 60) // [[0, 60], [240, 300]]
 */
export function missingRanges(
  coverage: Iterable<CoverageRange>,
  start: number,
  end: number,
  interval: number,
): CoverageRange[] {
  const ranges = mergeRanges(coverage, interval);
  const gaps: CoverageRange[] = [];
  let cursor = start;
  for (const [rangeStart, rangeEnd] of ranges) {
    if (cursor > end) break;
    if (rangeStart > cursor) {
      const gapEnd = Math.min(rangeStart - interval, end);
      if (gapEnd >= cursor) gaps.push([cursor, gapEnd]);
    }
    cursor = Math.max(cursor, rangeEnd + interval);
  }
  if (cursor <= end) gaps.push([cursor, end]);
  return gaps;
}
