import { ErrorCode } from '../../common/errors.js';
import { rejectUnknownKeys } from '../node-options.js';
import { HistorySeries } from './history-series.js';
import type { CoverageRange, DataFetcher, HistoryProvider, HistoryRow, StreamKey } from './protocols.js';
import { OutsideRangeFilter } from './range-filter.js';

export { MemoryEventRecorder, type RecordedEvent } from './memory-event-recorder.js';

/** Options of {@link MemoryHistoryProvider}. */
export interface MemoryHistoryProviderOptions {
  /** Where {@link MemoryHistoryProvider.fillMissing} gets rows it lacks; without one it fills nothing. */
  readonly fetcher?: DataFetcher;
  /**
   * A stable id of the data, part of the owning StreamInput's NodeID. Default: none, so the
   * stream's tags and interval alone identify it.
   */
  readonly sourceId?: string;
}

const OPTION_KEYS = [
  'fetcher',
  'sourceId',
] as const satisfies readonly (keyof MemoryHistoryProviderOptions)[];

function streamId(key: StreamKey): string {
  return `${key.nodeId}\u0000${key.interval}`;
}

/**
 * A {@link HistoryProvider} that keeps rows in memory, sorted by `ts`: for tests, examples and as
 * the cache behind file-backed providers.
 *
 * Rows given without a stream key (the constructor's, or `insert(rows)`) form the default series,
 * which every stream without rows of its own reads and fills; `insert(rows, key)` gives one stream
 * its own series. Holding one row per `ts`, a later row with the same `ts` replaces the earlier.
 *
 * @example
 * const provider = new MemoryHistoryProvider([
 *   { ts: 60, close: 101.5 },
 *   { ts: 120, close: 102.0 },
 * ]);
 * await provider.coverage({ nodeId: 'btc', interval: 60 }); // [[60, 120]]
 */
export class MemoryHistoryProvider implements HistoryProvider {
  /** A stable id of the data source, when one was given. */
  readonly sourceId?: string;
  private readonly fetcher: DataFetcher | undefined;
  private readonly defaultSeries = new HistorySeries();
  private readonly streams = new Map<string, HistorySeries>();
  private readonly outsideRange = OutsideRangeFilter.forFills();

  constructor(rows: Iterable<HistoryRow> = [], options: MemoryHistoryProviderOptions = {}) {
    rejectUnknownKeys(options, OPTION_KEYS, 'MemoryHistoryProvider', { code: ErrorCode.InvalidArgument });
    this.fetcher = options.fetcher;
    if (options.sourceId !== undefined) this.sourceId = options.sourceId;
    this.defaultSeries.insert(rows, 'replace');
  }

  /**
   * Adds rows; a row with a held `ts` replaces it. With `key`, the rows go to that stream's own
   * series (created on first use, after which the stream no longer reads the default series).
   */
  insert(rows: Iterable<HistoryRow>, key?: StreamKey): void {
    this.writableSeries(key).insert(rows, 'replace');
  }

  /**
   * Adds to the series `key` reads only the rows whose `ts` it does not hold yet, and returns
   * them, ascending. Used by
   * {@link fillMissing} and by providers that persist what was fetched.
   */
  insertMissing(rows: Iterable<HistoryRow>, key?: StreamKey): HistoryRow[] {
    return (key === undefined ? this.defaultSeries : this.seriesFor(key)).insert(rows, 'keep');
  }

  /** Number of rows `key` reads (the default series' when `key` is omitted or has no rows of its own). */
  count(key?: StreamKey): number {
    return (key === undefined ? this.defaultSeries : this.seriesFor(key)).size;
  }

  /** Rows with `start <= ts < end`, ascending; a binary search and one slice. */
  fetch(start: number, end: number, key: StreamKey): Promise<readonly HistoryRow[]> {
    return Promise.resolve(this.seriesFor(key).range(start, end));
  }

  /** Runs of consecutive `ts` (`ts == previous + key.interval`) as inclusive ranges, ascending. */
  coverage(key: StreamKey): Promise<readonly CoverageRange[]> {
    return Promise.resolve(this.seriesFor(key).coverage(key.interval));
  }

  /**
   * Asks the fetcher for `[start, end + 1)` and keeps the rows in that range whose `ts` it does not
   * hold yet. Rows the fetcher returns outside it are dropped, as the BackfillEngine drops a
   * provider's (warning `history.fill_outside_range` once per stream, with the count): a fill
   * stores only the gap it was asked for. Without a fetcher this does nothing: a memory provider
   * may legitimately have gaps.
   */
  async fillMissing(start: number, end: number, key: StreamKey): Promise<void> {
    if (this.fetcher === undefined || !(start <= end)) return;
    const rows = await this.fetcher.fetch(start, end + 1, key);
    this.insertMissing(this.outsideRange.keep(key, start, end + 1, rows), key);
  }

  private seriesFor(key: StreamKey): HistorySeries {
    return this.streams.get(streamId(key)) ?? this.defaultSeries;
  }

  private writableSeries(key: StreamKey | undefined): HistorySeries {
    if (key === undefined) return this.defaultSeries;
    const id = streamId(key);
    let series = this.streams.get(id);
    if (series === undefined) {
      series = new HistorySeries();
      this.streams.set(id, series);
    }
    return series;
  }
}
