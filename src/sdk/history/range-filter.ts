import { logger } from '../../common/logger.js';
import type { HistoryRow, StreamKey } from './protocols.js';

/**
 * Drops the rows a source returned outside the range it was asked for, `[start, end)`: a provider
 * or fetcher that ignores `end` (or `start`) must not put rows of another range into this one, or
 * what a run reads would depend on how its ranges were cut. Each instance warns once per stream,
 * with the count, under its `event` name; the filter is shared by the BackfillEngine (fetches)
 * and the providers' `fillMissing` (fetched rows they store, see {@link OutsideRangeFilter.forFills}).
 *
 * @example
 * const outsideRange = new OutsideRangeFilter('backfill.outside_range', 'the provider');
 * const rows = outsideRange.keep(key, start, end, fetched, { file: path });
 */
export class OutsideRangeFilter {
  /** Streams already warned about. */
  readonly #warned = new Set<string>();

  /**
   * @param event the log event, e.g. `backfill.outside_range`
   * @param source who returned the rows, for the log line, e.g. `the provider`
   */
  constructor(
    private readonly event: string,
    private readonly source: string,
  ) {}

  /** The filter of a provider's `fillMissing`: `history.fill_outside_range`, about its fetcher. */
  static forFills(): OutsideRangeFilter {
    return new OutsideRangeFilter('history.fill_outside_range', 'the fetcher');
  }

  /**
   * The rows with `start <= ts < end`, in their order (the same array when none is outside). Rows
   * without a numeric `ts` are kept for the caller to report. The warning names the stream
   * (`node_id`, `interval`) and the range; `context` adds what else says where the rows went.
   */
  keep(
    key: StreamKey,
    start: number,
    end: number,
    rows: readonly HistoryRow[],
    context: object = {},
  ): readonly HistoryRow[] {
    const outside = (row: HistoryRow | null | undefined): boolean => {
      const ts = row?.ts;
      return typeof ts === 'number' && (ts < start || ts >= end);
    };
    let dropped = 0;
    for (const row of rows) if (outside(row)) dropped += 1;
    if (dropped === 0) return rows;
    const stream = `${key.nodeId}\u0000${key.interval}`;
    if (!this.#warned.has(stream)) {
      this.#warned.add(stream);
      logger.warn(
        { node_id: key.nodeId, interval: key.interval, ...context, start, end, dropped, rows: rows.length },
        `${this.event}: ${this.source} returned rows outside the asked [start, end); they were dropped (logged once per stream)`,
      );
    }
    return rows.filter((row) => !outside(row));
  }
}
