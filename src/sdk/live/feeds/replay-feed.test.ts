import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import { MemoryHistoryProvider } from '../../history/memory-history-provider.js';
import type { HistoryProvider, HistoryRow } from '../../history/protocols.js';
import type { LiveFeedHandle } from '../live-feed.js';
import { bars, KEY, record, T0, testLiveFeedContract, until } from './live-feed.contract.test-kit.js';
import { ReplayFeed } from './replay-feed.js';

testLiveFeedContract('ReplayFeed', () =>
  Promise.resolve({
    feed: (rows) => Promise.resolve(new ReplayFeed({ provider: new MemoryHistoryProvider(rows) })),
    cleanup: () => Promise.resolve(),
  }),
);

/** A seeded-generator stand-in: bar k is a pure function of k, over `count` bars from T0. */
function formulaProvider(count: number, fetches: [number, number][] = []): HistoryProvider {
  const row = (k: number): HistoryRow => ({ ts: T0 + k * 60, close: Math.round(1000 * Math.sin(k)) / 10 });
  return {
    fetch: (start, end) => {
      fetches.push([start, end]);
      const rows: HistoryRow[] = [];
      for (let k = Math.max(0, Math.ceil((start - T0) / 60)); k < count && T0 + k * 60 < end; k += 1)
        rows.push(row(k));
      return Promise.resolve(rows);
    },
    coverage: () => Promise.resolve([[T0, T0 + (count - 1) * 60]]),
    fillMissing: () => Promise.resolve(),
  };
}

describe('ReplayFeed', () => {
  const handles: LiveFeedHandle[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    vi.restoreAllMocks();
  });

  it('ends after the last row of the coverage by default', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider(bars(5)) });
    const { rows, errors, handle } = await record(feed, T0 + 60, undefined, handles);
    await handle.done;
    expect(rows.map((row) => row.close)).toEqual([1, 2, 3, 4]);
    expect(errors).toEqual([]);
  });

  it('stops at until, inclusive', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider(bars(10)), until: T0 + 4 * 60 });
    const { rows, handle } = await record(feed, T0, undefined, handles);
    await handle.done;
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3, 4]);
  });

  it('fetches window by window, never more than windowBars rows at once', async () => {
    const fetches: [number, number][] = [];
    const feed = new ReplayFeed({ provider: formulaProvider(8, fetches), windowBars: 3 });
    const { rows, handle } = await record(feed, T0, undefined, handles);
    await handle.done;
    expect(rows).toHaveLength(8);
    expect(fetches).toEqual([
      [T0, T0 + 180],
      [T0 + 180, T0 + 360],
      [T0 + 360, T0 + 421],
    ]);
  });

  it('replays the same bars from any bucket, however the windows fall', async () => {
    const full = await record(new ReplayFeed({ provider: formulaProvider(20) }), T0, undefined, handles);
    await full.handle.done;
    const fromSeven = await record(
      new ReplayFeed({ provider: formulaProvider(20), windowBars: 2 }),
      T0 + 7 * 60,
      undefined,
      handles,
    );
    await fromSeven.handle.done;
    expect(fromSeven.rows).toEqual(full.rows.slice(7));
    expect(fromSeven.rows).toHaveLength(13);
  });

  it('waits paceMs between bars', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider(bars(3)), paceMs: 30 });
    const times: number[] = [];
    const { handle } = await record(feed, T0, () => void times.push(performance.now()), handles);
    await handle.done;
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(25);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(25);
  });

  it('ends at once over an empty provider', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider() });
    const { rows, errors, handle } = await record(feed, T0, undefined, handles);
    await handle.done;
    expect(rows).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('reports a failing provider through onError', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(3));
    provider.fetch = () => Promise.reject(new Error('disk gone'));
    const { errors, handle } = await record(new ReplayFeed({ provider }), T0, undefined, handles, {
      historyMaxRetries: 0,
    });
    await handle.done;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.HistoryUnavailable });
    expect(errors[0]?.message).toContain(
      `could not fetch [${T0}, ${T0 + 121}) of stream "${KEY.nodeId}" after 1 attempt: disk gone`,
    );
  });

  it('retries a failing fetch historyMaxRetries times, as a backtest retries its history', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(3));
    const fetchRows = provider.fetch.bind(provider);
    let calls = 0;
    provider.fetch = (start, end, key) =>
      (calls += 1) <= 2 ? Promise.reject(new Error('connection reset')) : fetchRows(start, end, key);
    const { rows, errors, handle } = await record(new ReplayFeed({ provider }), T0, undefined, handles, {
      historyMaxRetries: 2,
    });
    await handle.done;
    expect(errors).toEqual([]);
    expect(calls).toBe(3);
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2]);
  });

  it('retries a failing fetch 3 times by default, the run default', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(3));
    let calls = 0;
    provider.fetch = () => ((calls += 1), Promise.reject(new Error('disk gone')));
    const { errors, handle } = await record(new ReplayFeed({ provider }), T0, undefined, handles);
    await handle.done;
    expect(calls).toBe(4);
    expect(errors[0]?.message).toContain('after 4 attempts: disk gone');
  });

  it('fails with QMTL_TIMEOUT when a fetch does not settle within historyTimeoutMs', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(3));
    provider.fetch = () => new Promise(() => undefined);
    const feed = new ReplayFeed({ provider });
    const { errors, handle } = await record(feed, T0, undefined, handles, { historyTimeoutMs: 50 });
    await until(() => errors.length > 0);
    await handle.done;
    expect(errors[0]).toMatchObject({ code: ErrorCode.Timeout });
    expect(errors[0]?.message).toContain(
      `history provider of the ReplayFeed of node "${KEY.nodeId}" (interval 60) did not answer fetch of [${T0}, ${T0 + 121}) within 50 ms`,
    );
  });

  it('fails with QMTL_TIMEOUT when the coverage does not settle within historyTimeoutMs', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(3));
    provider.coverage = () => new Promise(() => undefined);
    const { errors } = await record(new ReplayFeed({ provider }), T0, undefined, handles, {
      historyTimeoutMs: 50,
    });
    await until(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: ErrorCode.Timeout });
    expect(errors[0]?.message).toContain('did not answer coverage within 50 ms');
  });

  it('rejects an invalid historyMaxRetries', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider(bars(3)) });
    const started = record(feed, T0, undefined, handles, { historyMaxRetries: -1 });
    await expect(started).rejects.toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    await expect(started).rejects.toThrow('historyMaxRetries must be a non-negative integer, got -1');
  });

  it('rejects an invalid historyTimeoutMs', async () => {
    const feed = new ReplayFeed({ provider: new MemoryHistoryProvider(bars(3)) });
    const started = record(feed, T0, undefined, handles, { historyTimeoutMs: 0 });
    await expect(started).rejects.toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    await expect(started).rejects.toThrow(
      'historyTimeoutMs must be a positive number of ms up to 2147483647, or Infinity, got 0',
    );
  });

  it('drops rows the provider returns outside the asked window, warning once like a backtest', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    // A provider that ignores the range and returns all it holds for every window.
    const all = bars(8);
    const provider = new MemoryHistoryProvider(all);
    provider.fetch = () => Promise.resolve(all);
    const fetch = vi.spyOn(provider, 'fetch');
    const { rows, handle } = await record(
      new ReplayFeed({ provider, windowBars: 3 }),
      T0 + 60,
      undefined,
      handles,
    );
    await handle.done;
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(rows.map((row) => row.close)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const warnings = warn.mock.calls.filter(([, message]) =>
      String(message).startsWith('backfill.outside_range'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toMatchObject({
      node_id: KEY.nodeId,
      start: T0 + 60,
      end: T0 + 240,
      dropped: 5,
    });
  });

  it('plays each window in timestamp order when the provider answers out of order', async () => {
    const all = bars(8);
    const provider = new MemoryHistoryProvider(all);
    // Every window comes back newest first.
    provider.fetch = (start, end) =>
      Promise.resolve(all.filter((row) => row.ts >= start && row.ts < end).reverse());
    const { rows, errors, handle } = await record(
      new ReplayFeed({ provider, windowBars: 3 }),
      T0,
      undefined,
      handles,
    );
    await handle.done;
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(errors).toEqual([]);
  });

  it('keeps the first of rows with equal timestamps and warns once per stream about the rest', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const provider = new MemoryHistoryProvider(bars(6));
    // Each bar comes twice (the second with close + 100), and each window newest first.
    provider.fetch = (start, end) =>
      Promise.resolve(
        bars(6)
          .filter((row) => row.ts >= start && row.ts < end)
          .flatMap((row) => [row, { ...row, close: (row.close as number) + 100 }])
          .reverse(),
      );
    const { rows, handle } = await record(
      new ReplayFeed({ provider, windowBars: 3 }),
      T0,
      undefined,
      handles,
    );
    await handle.done;
    // Stable order: of two rows with one ts, the one the provider returned first is played.
    expect(rows.map((row) => row.close)).toEqual([100, 101, 102, 103, 104, 105]);
    const warnings = warn.mock.calls.filter(([, message]) =>
      String(message).startsWith('replay.not_delivered'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toMatchObject({ nodeId: KEY.nodeId, start: T0, end: T0 + 180, dropped: 3 });
  });

  it('rejects invalid options, listing every problem', () => {
    const make = (): ReplayFeed =>
      new ReplayFeed({ provider: {} as HistoryProvider, paceMs: -1, windowBars: 0, pace: 1 } as never);
    expect(make).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(make).toThrow('provider must be an object with fetch() and coverage(), got {}');
    expect(make).toThrow('paceMs must be a non-negative number, got -1');
    expect(make).toThrow('windowBars must be a positive integer, got 0');
    expect(make).toThrow('unknown option "pace"');
    expect(() => new ReplayFeed({} as never)).toThrow('provider must be given, got undefined');
  });
});
