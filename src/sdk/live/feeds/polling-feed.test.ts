import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import type { DataFetcher, HistoryRow } from '../../history/protocols.js';
import type { LiveFeedHandle } from '../live-feed.js';
import { bars, KEY, record, T0, testLiveFeedContract, until } from './live-feed.contract.test-kit.js';
import { PollingFeed, type PollingFeedOptions } from './polling-feed.js';

/** A fetcher over fixed rows that answers `[start, end)` as the contract says, and logs each call. */
function rangeFetcher(rows: readonly HistoryRow[], calls: [number, number][] = []): DataFetcher {
  return {
    fetch: (start, end) => {
      calls.push([start, end]);
      return Promise.resolve(rows.filter((row) => row.ts >= start && row.ts < end));
    },
  };
}

const later = (): number => T0 + 3600;

testLiveFeedContract('PollingFeed', () =>
  Promise.resolve({
    feed: (rows) => Promise.resolve(new PollingFeed({ fetcher: rangeFetcher(rows), pollMs: 5, now: later })),
    cleanup: () => Promise.resolve(),
  }),
);

describe('PollingFeed', () => {
  const handles: LiveFeedHandle[] = [];
  const feed = (options: Partial<PollingFeedOptions> & Pick<PollingFeedOptions, 'fetcher'>): PollingFeed =>
    new PollingFeed({ pollMs: 5, now: later, ...options });

  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    vi.restoreAllMocks();
  });

  it('asks for the completed buckets after the last delivered one', async () => {
    const calls: [number, number][] = [];
    let now = T0 + 150; // bucket T0+120 is still forming
    const polling = feed({ fetcher: rangeFetcher(bars(10), calls), now: () => now });
    const { rows } = await record(polling, T0, undefined, handles);
    await until(() => rows.length === 2);
    expect(calls[0]).toEqual([T0, T0 + 120]);
    now = T0 + 250;
    await until(() => rows.length === 4);
    expect(calls).toContainEqual([T0 + 120, T0 + 240]);
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3]);
    // No call asks again for what was delivered, nor for the forming bar.
    expect(calls.every(([start, end]) => (start === T0 || start >= T0 + 120) && end <= T0 + 240)).toBe(true);
  });

  it('delivers each row once, ascending, when answers overlap or come unsorted', async () => {
    const all = bars(4);
    const sloppy: DataFetcher = { fetch: () => Promise.resolve([...all].reverse()) };
    const { rows } = await record(feed({ fetcher: sloppy }), T0 + 60, undefined, handles);
    await until(() => rows.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 40)); // several more polls answer the same rows
    expect(rows.map((row) => row.close)).toEqual([1, 2, 3]);
  });

  it('gives up through onError after maxFailures consecutive failures', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    let calls = 0;
    const failing: DataFetcher = {
      fetch: () => {
        calls += 1;
        return Promise.reject(new Error('HTTP 503'));
      },
    };
    const polling = feed({ fetcher: failing, maxFailures: 3, backoffMs: { initial: 2, max: 4 } });
    const { errors, handle } = await record(polling, T0, undefined, handles);
    await handle.done;
    expect(calls).toBe(3);
    expect(warned).toHaveBeenCalledTimes(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.Unavailable });
    expect(errors[0]?.message).toContain('after 3 consecutive failed fetches');
    expect(errors[0]?.message).toContain('HTTP 503');
  });

  it('waits exponentially longer between retries', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const times: number[] = [];
    const failing: DataFetcher = {
      fetch: () => {
        times.push(performance.now());
        return Promise.reject(new Error('down'));
      },
    };
    const polling = feed({ fetcher: failing, maxFailures: 3, backoffMs: { initial: 20, max: 100 } });
    const { handle } = await record(polling, T0, undefined, handles);
    await handle.done;
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(18);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(38);
  });

  it('counts only consecutive failures', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    let calls = 0;
    const all = bars(6);
    const flaky: DataFetcher = {
      // Fails twice, then answers one more row, and again.
      fetch: () => {
        calls += 1;
        if (calls % 3 !== 0) return Promise.reject(new Error('flaky'));
        return Promise.resolve(all.slice(0, calls / 3));
      },
    };
    const polling = feed({ fetcher: flaky, maxFailures: 3, backoffMs: { initial: 1, max: 1 } });
    const { rows, errors } = await record(polling, T0, undefined, handles);
    await until(() => rows.length === 4);
    expect(errors).toEqual([]);
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3]);
  });

  it('counts a fetch that does not answer within historyTimeoutMs as a failed one', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    let calls = 0;
    // The first call hangs (a request without a timeout); the next ones answer.
    const stalling: DataFetcher = {
      fetch: (start, end) => {
        calls += 1;
        if (calls === 1) return new Promise<never>(() => undefined);
        return rangeFetcher(bars(3)).fetch(start, end, KEY);
      },
    };
    const polling = feed({ fetcher: stalling, backoffMs: { initial: 1, max: 1 } });
    const { rows, errors } = await record(polling, T0, undefined, handles, { historyTimeoutMs: 20 });
    await until(() => rows.length === 3);
    expect(errors).toEqual([]);

    const hanging: DataFetcher = { fetch: () => new Promise<never>(() => undefined) };
    const stuck = feed({ fetcher: hanging, maxFailures: 2, backoffMs: { initial: 1, max: 1 } });
    const failed = await record(stuck, T0, undefined, handles, { historyTimeoutMs: 20 });
    await failed.handle.done;
    expect(failed.errors[0]).toMatchObject({ code: ErrorCode.Unavailable });
    expect(failed.errors[0]?.message).toContain(
      `after 2 consecutive failed fetches of [${T0}, ${T0 + 3600}): fetch of [${T0}, ${T0 + 3600}) did not answer within 20 ms (historyTimeoutMs)`,
    );
  });

  it('rejects invalid options, listing every problem', () => {
    const make = (): PollingFeed =>
      new PollingFeed({
        fetcher: null,
        pollMs: 0,
        maxFailures: 1.5,
        backoffMs: { initial: 50, max: 10 },
      } as never);
    expect(make).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(make).toThrow('fetcher must be an object with fetch(), got null');
    expect(make).toThrow('pollMs must be a positive number, got 0');
    expect(make).toThrow('maxFailures must be a positive integer, got 1.5');
    expect(make).toThrow('backoffMs.max must be >= backoffMs.initial (50), got 10');
    expect(
      () => new PollingFeed({ fetcher: rangeFetcher([]), pollMs: 5, backoffMs: { initial: 5 } } as never),
    ).toThrow('backoffMs.max must be a positive number, got undefined');
  });
});
