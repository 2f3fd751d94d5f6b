import { describe, expect, it, vi } from 'vitest';
import { expectFillKeepsAskedRange, gridFetcher } from './history.test-kit.js';
import { ErrorCode } from '../../common/errors.js';
import { MemoryHistoryProvider } from './memory-history-provider.js';
import type { DataFetcher, HistoryRow, StreamKey } from './protocols.js';

const key: StreamKey = { nodeId: 'btc', interval: 60 };

function bars(...timestamps: number[]): HistoryRow[] {
  return timestamps.map((ts) => ({ ts, close: ts / 60 }));
}

describe('MemoryHistoryProvider', () => {
  it('refuses a misspelt option, naming it and the known ones', () => {
    expect(() => new MemoryHistoryProvider([], { fetchr: gridFetcher((ts) => ({ ts })) } as never)).toThrow(
      'MemoryHistoryProvider: unknown option "fetchr" (known: fetcher, sourceId)',
    );
  });

  it('fetches the half-open range [start, end)', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 60, 120, 180, 240));
    const rows = await provider.fetch(60, 180, key);
    expect(rows.map((r) => r.ts)).toEqual([60, 120]);
  });

  it('returns nothing for an empty or reversed range', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 60, 120));
    expect(await provider.fetch(60, 60, key)).toEqual([]);
    expect(await provider.fetch(120, 60, key)).toEqual([]);
  });

  it('returns rows sorted by ts whatever the input order', async () => {
    const provider = new MemoryHistoryProvider(bars(180, 0, 120, 60));
    expect((await provider.fetch(0, 1000, key)).map((r) => r.ts)).toEqual([0, 60, 120, 180]);
  });

  it('replaces a row when a later one has the same ts', async () => {
    const provider = new MemoryHistoryProvider([
      { ts: 60, close: 1 },
      { ts: 60, close: 2 },
    ]);
    provider.insert([
      { ts: 120, close: 3 },
      { ts: 0, close: 4 },
    ]);
    provider.insert([{ ts: 120, close: 5 }]);
    const rows = await provider.fetch(0, 1000, key);
    expect(rows).toEqual([
      { ts: 0, close: 4 },
      { ts: 60, close: 2 },
      { ts: 120, close: 5 },
    ]);
  });

  it('merges rows inserted in between held rows', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 120, 240));
    provider.insert(bars(60, 180, 300));
    expect((await provider.fetch(0, 1000, key)).map((r) => r.ts)).toEqual([0, 60, 120, 180, 240, 300]);
    expect(provider.count()).toBe(6);
  });

  it('groups consecutive buckets into inclusive coverage ranges', async () => {
    const provider = new MemoryHistoryProvider(bars(60, 120, 240, 300));
    expect(await provider.coverage(key)).toEqual([
      [60, 120],
      [240, 300],
    ]);
  });

  it('reports coverage per interval of the key', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 60, 120));
    expect(await provider.coverage({ nodeId: 'btc', interval: 120 })).toEqual([
      [0, 0],
      [60, 60],
      [120, 120],
    ]);
  });

  it('returns empty coverage when it holds no rows', async () => {
    expect(await new MemoryHistoryProvider().coverage(key)).toEqual([]);
  });

  it('caches coverage until the next insert', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 60));
    const first = await provider.coverage(key);
    expect(await provider.coverage(key)).toBe(first);
    provider.insert(bars(120));
    const second = await provider.coverage(key);
    expect(second).not.toBe(first);
    expect(second).toEqual([[0, 120]]);
  });

  it('keeps rows inserted with a key apart from the default series', async () => {
    const provider = new MemoryHistoryProvider(bars(0, 60));
    const eth: StreamKey = { nodeId: 'eth', interval: 60 };
    provider.insert(bars(600), eth);
    expect((await provider.fetch(0, 1000, eth)).map((r) => r.ts)).toEqual([600]);
    expect((await provider.fetch(0, 1000, key)).map((r) => r.ts)).toEqual([0, 60]);
  });

  it('rejects a row without a finite ts', () => {
    const bad = [{ ts: 0 }, { ts: Number.NaN }] as HistoryRow[];
    expect(() => new MemoryHistoryProvider(bad)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    expect(() => new MemoryHistoryProvider(bad)).toThrow('History row 1 has ts NaN');
  });

  it('leaves sourceId undefined unless given', () => {
    expect(new MemoryHistoryProvider().sourceId).toBeUndefined();
    expect(new MemoryHistoryProvider([], { sourceId: 'fixture:btc' }).sourceId).toBe('fixture:btc');
  });

  it('does nothing in fillMissing without a fetcher', async () => {
    const provider = new MemoryHistoryProvider(bars(0));
    await provider.fillMissing(0, 600, key);
    expect(await provider.coverage(key)).toEqual([[0, 0]]);
  });

  it('asks the fetcher for [start, end + 1) and keeps rows it already holds', async () => {
    const fetcher = gridFetcher((ts) => ({ ts, close: -ts, fetched: true }));
    const provider = new MemoryHistoryProvider(bars(120), { fetcher });
    await provider.fillMissing(0, 240, key);
    expect(fetcher.calls).toEqual([[0, 241]]);
    expect(await provider.coverage(key)).toEqual([[0, 240]]);
    const rows = await provider.fetch(0, 1000, key);
    expect(rows.find((r) => r.ts === 120)).toEqual({ ts: 120, close: 2 });
    expect(rows.find((r) => r.ts === 240)).toEqual({ ts: 240, close: -240, fetched: true });
  });

  it('keeps only fetched rows inside the asked range, warning once per stream of the rest', async () => {
    let provider: MemoryHistoryProvider | undefined;
    await expectFillKeepsAskedRange((fetcher) => {
      const memory = new MemoryHistoryProvider(bars(180), { fetcher });
      provider = memory;
      return { filling: memory, reader: () => memory };
    }, key);
    expect(provider?.count()).toBe(4);
    expect(await provider?.coverage(key)).toEqual([
      [120, 240],
      [360, 360],
    ]);
  });

  it('passes the stream key to the fetcher', async () => {
    const fetch = vi.fn<DataFetcher['fetch']>(() => Promise.resolve([]));
    await new MemoryHistoryProvider([], { fetcher: { fetch } }).fillMissing(0, 60, key);
    expect(fetch).toHaveBeenCalledWith(0, 61, key);
  });

  it('reports the rows insertMissing adds', () => {
    const provider = new MemoryHistoryProvider(bars(60));
    const added = provider.insertMissing([
      { ts: 60, close: 99 },
      { ts: 0, close: 0 },
      { ts: 0, close: 1 },
    ]);
    expect(added).toEqual([{ ts: 0, close: 0 }]);
  });

  it('serves a million rows in 64k-row chunks', async () => {
    const total = 1_000_000;
    const rows: HistoryRow[] = [];
    for (let i = 0; i < total; i += 1) rows.push({ ts: i * 60, close: i });
    const provider = new MemoryHistoryProvider(rows);
    const chunk = 65_536 * 60;
    let seen = 0;
    let lastTs = -1;
    for (let start = 0; start < total * 60; start += chunk) {
      const part = await provider.fetch(start, start + chunk, key);
      seen += part.length;
      lastTs = part.at(-1)?.ts ?? lastTs;
    }
    expect(seen).toBe(total);
    expect(lastTs).toBe((total - 1) * 60);
    expect(await provider.coverage(key)).toEqual([[0, (total - 1) * 60]]);
  });
});
