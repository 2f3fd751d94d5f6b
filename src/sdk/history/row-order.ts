import type { HistoryRow } from './protocols.js';

/**
 * `rows` ascending by `ts`, stable for equal timestamps: the order in which a backtest replays a
 * history window and a ReplayFeed plays one (SPEC §3.5), however the provider returned them. The
 * same array when it is already in order. Rows without a finite numeric `ts` come first, in their
 * order, for the caller to report.
 *
 * @example
 * const rows = inTimestampOrder(await provider.fetch(start, end, key));
 */
export function inTimestampOrder(rows: readonly HistoryRow[]): readonly HistoryRow[] {
  const key = (row: HistoryRow | null | undefined): number => {
    const ts = row?.ts;
    return typeof ts === 'number' && Number.isFinite(ts) ? ts : -Infinity;
  };
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) sorted = key(rows[i - 1]) <= key(rows[i]);
  if (sorted) return rows;
  // Array#sort is stable: rows with one ts keep the provider's order.
  return [...rows].sort((a, b) => key(a) - key(b) || 0);
}
