import { ErrorCode, QmtlError } from '../../common/errors.js';
import type { HistoryRow } from '../history/protocols.js';
import { fetchWindow, type HistorySource } from './history-loader.js';
import type { NodeRuntime } from './node-runtime.js';
import type { TickEngine } from './tick-engine.js';

/** Progress of a replay, reported once per history window. */
export interface ReplayProgress {
  /** Bars replayed so far: one per stream and bucket (see {@link ReplayTotals.bars}). */
  readonly bars: number;
  /** The last bucket replayed. */
  readonly time: number;
  /** Fraction of `[start, end]` done, 0 … 1. */
  readonly fraction: number;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Bars of the finest interval fetched per window (default 65,536): bounds memory. */
  readonly windowBars?: number;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/** Totals of a replay. */
export interface ReplayTotals {
  /**
   * Bars replayed: one per stream and bucket. Several rows of one bucket (a repeated timestamp,
   * or timestamps inside the same interval) are one bar, which the rows after the first correct,
   * as the node cache replaces the newest slot instead of adding one.
   */
  readonly bars: number;
  /** Distinct buckets replayed (all streams together). */
  readonly ticks: number;
}

/**
 * Replays `[start, end]` of every source through the engine in timestamp order (SPEC §3.5). History
 * is fetched window by window (the next window is fetched while the current one replays), so
 * memory stays bounded however long the range. Rows of all sources with the same bucket form one
 * tick; within a tick, sources keep their first-seen order.
 */
export async function replay(
  engine: TickEngine,
  sources: readonly HistorySource[],
  start: number,
  end: number,
  options: ReplayOptions = {},
): Promise<ReplayTotals> {
  if (sources.length === 0 || start > end) return { bars: 0, ticks: 0 };
  let bars = 0;
  let ticks = 0;
  for await (const { windows, progress } of historyWindows(sources, start, end, options.windowBars)) {
    const totals =
      sources.length === 1
        ? replayOne(engine, sources[0]!, windows[0]!)
        : replayMerged(engine, sources, windows);
    bars += totals.bars;
    ticks += totals.ticks;
    options.onProgress?.({ bars, ...progress });
  }
  return { bars, ticks };
}

/** One history window of every source, and where the replay stands once it is replayed. */
export interface HistoryWindow {
  /** Rows of each source in the window, in source order. */
  readonly windows: (readonly HistoryRow[])[];
  readonly progress: Omit<ReplayProgress, 'bars'>;
}

/**
 * `[start, end]` of every source, window by window, the next window fetched while the current one
 * is replayed. Windows end on multiples of {@link windowSpan}, which are bucket boundaries of
 * every source, so no bucket's rows are ever split between two windows (its tick would be
 * replayed twice).
 */
export async function* historyWindows(
  sources: readonly HistorySource[],
  start: number,
  end: number,
  windowBars = 65_536,
): AsyncGenerator<HistoryWindow> {
  const span = windowSpan(
    sources.map((s) => s.key.interval),
    windowBars,
  );
  const windowEnd = (from: number): number => Math.min((Math.floor(from / span) + 1) * span, end + 1);
  // Aborted when the consumer stops (a compute error, onMissing 'fail', a break): the prefetch of
  // the next window is then abandoned and makes no further tries.
  const abandon = new AbortController();
  const fetchAll = (from: number): Promise<(readonly HistoryRow[])[]> => {
    const fetched = Promise.all(
      sources.map((source) => fetchWindow(source, from, windowEnd(from), abandon.signal)),
    );
    // A prefetch nobody awaits any more must not fail as an unhandled rejection (which ends the
    // process after the caller has already handled the run's error); awaiting it still throws.
    fetched.catch(() => undefined);
    return fetched;
  };
  let next = fetchAll(start);
  let yielded = performance.now();
  try {
    for (let from = start; from <= end; from = windowEnd(from)) {
      const windows = await next;
      const to = windowEnd(from);
      if (to <= end) next = fetchAll(to);
      yield { windows, progress: { time: to - 1, fraction: Math.min(1, (to - start) / (end + 1 - start)) } };
      // Providers that answer at once (in memory) resolve in microtasks only: let timers, signal
      // handlers and servers (metrics, health) run between windows.
      if (performance.now() - yielded > YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
    }
  } finally {
    abandon.abort(new QmtlError(ErrorCode.Unavailable, 'history window abandoned: the replay stopped'));
  }
}

/** How long a replay runs before it lets the event loop take its turn. */
const YIELD_EVERY_MS = 50;

/**
 * The length of a history window in seconds: about `windowBars` bars of the finest interval,
 * rounded up to a multiple of every source's interval (their least common multiple), or
 * Infinity (one window) when that multiple is beyond exact integers.
 */
export function windowSpan(intervals: readonly number[], windowBars: number): number {
  const grid = intervals.reduce((a, b) => (a / gcd(a, b)) * b);
  const span = Math.ceil((windowBars * Math.min(...intervals)) / grid) * grid;
  return Number.isSafeInteger(span) ? span : Infinity;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function replayOne(engine: TickEngine, source: HistorySource, rows: readonly HistoryRow[]): ReplayTotals {
  const runtime = source.runtime;
  const interval = source.key.interval;
  let ticks = 0;
  let current = NaN;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const ts = row.ts;
    // Contiguous aligned bars (the common case) need no modulo.
    const bucket = ts === current + interval ? ts : ts - (ts % interval);
    if (bucket !== current) {
      if (ticks > 0) engine.runTick(current);
      current = bucket;
      ticks++;
    }
    engine.emit(runtime, bucket, row);
  }
  if (ticks > 0) engine.runTick(current);
  // One source: each tick is one bar of it (rows correcting a bucket are not bars of their own).
  return { bars: ticks, ticks };
}

function replayMerged(
  engine: TickEngine,
  sources: readonly HistorySource[],
  windows: readonly (readonly HistoryRow[])[],
): ReplayTotals {
  const merge = new BucketMerge(sources, windows);
  const emit = (runtime: NodeRuntime, bucket: number, row: HistoryRow): void =>
    engine.emit(runtime, bucket, row);
  let ticks = 0;
  for (let tick = merge.next(emit); tick !== Infinity; tick = merge.next(emit)) {
    engine.runTick(tick);
    ticks++;
  }
  return { bars: merge.bars, ticks };
}

/**
 * The rows of several sources' windows, bucket by bucket: each {@link next} hands the rows of the
 * next bucket (the smallest at the sources' cursors, on each source's own grid) to `emit`, source
 * by source, and returns that bucket; Infinity at the end.
 */
export class BucketMerge {
  readonly #sources: readonly HistorySource[];
  readonly #windows: readonly (readonly HistoryRow[])[];
  readonly #buckets: Float64Array[];
  readonly #cursors: Int32Array;
  /**
   * Bars handed out so far: one per source and bucket, however many rows the bucket had (the
   * rows after its first correct it, as in the node cache).
   */
  bars = 0;

  constructor(sources: readonly HistorySource[], windows: readonly (readonly HistoryRow[])[]) {
    this.#sources = sources;
    this.#windows = windows;
    this.#buckets = windows.map((rows, s) => {
      const interval = sources[s]!.key.interval;
      return Float64Array.from(rows, (row) => row.ts - (row.ts % interval));
    });
    this.#cursors = new Int32Array(sources.length);
  }

  next(emit: (runtime: NodeRuntime, bucket: number, row: HistoryRow) => void): number {
    const buckets = this.#buckets;
    const cursors = this.#cursors;
    let tick = Infinity;
    for (let s = 0; s < buckets.length; s++) {
      const b = buckets[s]![cursors[s]!];
      if (b !== undefined && b < tick) tick = b;
    }
    if (tick === Infinity) return tick;
    for (let s = 0; s < buckets.length; s++) {
      const rows = this.#windows[s]!;
      const sourceBuckets = buckets[s]!;
      const runtime = this.#sources[s]!.runtime;
      let c = cursors[s]!;
      while (c < rows.length && sourceBuckets[c] === tick) emit(runtime, tick, rows[c++]!);
      if (c > cursors[s]!) this.bars++;
      cursors[s] = c;
    }
    return tick;
  }
}
