import { expect, vi } from 'vitest';
import { logger } from '../../common/logger.js';
import type { DataFetcher, HistoryProvider, HistoryRow, StreamKey } from './protocols.js';

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

/**
 * Checks that `fillMissing` stores only fetched rows inside the asked range and warns once per
 * stream about the rest: `create` gets a fetcher that ignores the range (it returns 0, 60, …, 600)
 * and returns the provider that fills and one that reads the stored rows back.
 */
export async function expectFillKeepsAskedRange(
  create: (fetcher: DataFetcher) => { filling: HistoryProvider; reader: () => HistoryProvider },
  key: StreamKey,
): Promise<void> {
  const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
  try {
    const all = Array.from({ length: 11 }, (_, i) => ({ ts: i * 60, close: i }));
    const { filling, reader } = create({ fetch: () => Promise.resolve(all) });
    await filling.fillMissing(120, 240, key);
    await filling.fillMissing(360, 360, key);
    const stored = await reader().fetch(0, 1000, key);
    expect(stored.map((row) => row.ts)).toEqual([120, 180, 240, 360]);
    const warnings = warn.mock.calls.filter(([, message]) =>
      String(message).startsWith('history.fill_outside_range'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toMatchObject({
      node_id: key.nodeId,
      start: 120,
      end: 241,
      dropped: 8,
      rows: 11,
    });
  } finally {
    warn.mockRestore();
  }
}
