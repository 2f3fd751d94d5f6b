import type { DataFetcher, HistoryRow } from './protocols.js';

/** A fetcher that serves a row for every 60 s bucket of `[start, end)` and records its calls. */
export function gridFetcher(row: (ts: number) => HistoryRow): DataFetcher & { calls: [number, number][] } {
  const calls: [number, number][] = [];
  return {
    calls,
    fetch: (start, end) => {
      calls.push([start, end]);
      const rows: HistoryRow[] = [];
      for (let ts = Math.ceil(start / 60) * 60; ts < end; ts += 60) rows.push(row(ts));
      return Promise.resolve(rows);
    },
  };
}
