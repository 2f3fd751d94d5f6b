import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { CoverageRange, HistoryRow } from './protocols.js';

/** What {@link HistorySeries.insert} does with a row whose `ts` the series already holds. */
export type DuplicatePolicy = 'replace' | 'keep';

/**
 * One stream's rows, sorted by `ts` with at most one row per `ts`: the storage behind
 * MemoryHistoryProvider. Range reads are binary searches returning slices, so a million rows
 * read in 64k-row chunks costs only the copies of the chunks.
 */
export class HistorySeries {
  private rows: HistoryRow[] = [];
  private readonly coverageByInterval = new Map<number, readonly CoverageRange[]>();

  /** Number of rows held. */
  get size(): number {
    return this.rows.length;
  }

  /**
   * Adds rows, keeping the series sorted. A row whose `ts` is already held replaces the old one
   * (`'replace'`) or is dropped (`'keep'`); among incoming rows with the same `ts`, the later wins
   * under `'replace'` and the first under `'keep'`. Returns the rows actually written, ascending.
   */
  insert(rows: Iterable<HistoryRow>, policy: DuplicatePolicy): HistoryRow[] {
    const incoming = dedupe(sortedRows(rows), policy);
    if (incoming.length === 0) return [];
    this.coverageByInterval.clear();
    const lastTs = this.rows.at(-1)?.ts;
    if (lastTs === undefined || (incoming[0] as HistoryRow).ts > lastTs) {
      for (const row of incoming) this.rows.push(row);
      return incoming;
    }
    const { merged, written } = mergeSorted(this.rows, incoming, policy);
    this.rows = merged;
    return written;
  }

  /** Rows with `start <= ts < end`, ascending (a fresh array; the rows themselves are shared). */
  range(start: number, end: number): HistoryRow[] {
    if (!(start < end)) return [];
    return this.rows.slice(this.lowerBound(start), this.lowerBound(end));
  }

  /** Runs of consecutive buckets (`ts == previous + interval`) as inclusive ranges; cached until the next insert. */
  coverage(interval: number): readonly CoverageRange[] {
    let ranges = this.coverageByInterval.get(interval);
    if (ranges === undefined) {
      ranges = Object.freeze(runsOf(this.rows, interval));
      this.coverageByInterval.set(interval, ranges);
    }
    return ranges;
  }

  /** Index of the first row with `ts >= ts`. */
  private lowerBound(ts: number): number {
    let low = 0;
    let high = this.rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.rows[mid] as HistoryRow).ts < ts) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function sortedRows(rows: Iterable<HistoryRow>): HistoryRow[] {
  const list = Array.from(rows);
  let sorted = true;
  list.forEach((row, index) => {
    const ts: unknown = (row as { ts?: unknown } | null)?.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `History row ${index} has ts ${typeof ts === 'number' ? String(ts) : quote(ts)}; ts must be a finite number of epoch seconds`,
      );
    }
    if (index > 0 && (list[index - 1] as HistoryRow).ts > ts) sorted = false;
  });
  // Array#sort is stable, so rows with equal ts keep their input order for dedupe().
  return sorted ? list : list.sort((a, b) => a.ts - b.ts);
}

function dedupe(sorted: HistoryRow[], policy: DuplicatePolicy): HistoryRow[] {
  const out: HistoryRow[] = [];
  for (const row of sorted) {
    const last = out.at(-1);
    if (last === undefined || last.ts !== row.ts) out.push(row);
    else if (policy === 'replace') out[out.length - 1] = row;
  }
  return out;
}

function mergeSorted(
  existing: readonly HistoryRow[],
  incoming: readonly HistoryRow[],
  policy: DuplicatePolicy,
): { merged: HistoryRow[]; written: HistoryRow[] } {
  const merged: HistoryRow[] = [];
  const written: HistoryRow[] = [];
  let i = 0;
  let j = 0;
  while (i < existing.length || j < incoming.length) {
    const old = existing[i];
    const next = incoming[j];
    if (next === undefined || (old !== undefined && old.ts < next.ts)) {
      merged.push(old as HistoryRow);
      i += 1;
    } else if (old === undefined || next.ts < old.ts) {
      merged.push(next);
      written.push(next);
      j += 1;
    } else {
      const keepOld = policy === 'keep';
      merged.push(keepOld ? old : next);
      if (!keepOld) written.push(next);
      i += 1;
      j += 1;
    }
  }
  return { merged, written };
}

function runsOf(rows: readonly HistoryRow[], interval: number): CoverageRange[] {
  const ranges: CoverageRange[] = [];
  let start: number | undefined;
  let previous = 0;
  for (const { ts } of rows) {
    if (start === undefined) {
      start = ts;
    } else if (ts !== previous + interval) {
      ranges.push([start, previous]);
      start = ts;
    }
    previous = ts;
  }
  if (start !== undefined) ranges.push([start, previous]);
  return ranges;
}
