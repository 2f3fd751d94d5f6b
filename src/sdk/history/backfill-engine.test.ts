import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { ErrorCode, QmtlError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { resetMetrics, sdkMetrics, sdkRegistry } from '../metrics.js';
import { NodeCache } from '../cache/node-cache.js';
import { BackfillEngine, type BackfillTarget } from './backfill-engine.js';
import { MemoryHistoryProvider } from './memory-history-provider.js';
import type { DataFetcher, HistoryRow, StreamKey } from './protocols.js';

const key: StreamKey = { nodeId: 'node-a', interval: 60 };
const labels = { node_id: 'node-a', interval: '60' };

/** A target that records every backfillBulk call. */
function recordingTarget(): BackfillTarget & {
  calls: { upstreamId: string; interval: number; items: (readonly [number, unknown])[] }[];
} {
  const calls: { upstreamId: string; interval: number; items: (readonly [number, unknown])[] }[] = [];
  return {
    calls,
    backfillBulk: (upstreamId, interval, items) => calls.push({ upstreamId, interval, items: [...items] }),
  };
}

/** A fetcher that fails `failures` times, then returns one row per bucket of the range. */
function flakyFetcher(failures: number): DataFetcher & { tries: number } {
  const fetcher = {
    tries: 0,
    fetch: (start: number, end: number): Promise<readonly HistoryRow[]> => {
      fetcher.tries += 1;
      if (fetcher.tries <= failures) return Promise.reject(new Error(`unavailable ${fetcher.tries}`));
      const rows: HistoryRow[] = [];
      for (let ts = start; ts < end; ts += 60) rows.push({ ts, close: ts });
      return Promise.resolve(rows);
    },
  };
  return fetcher;
}

function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: (ms) => (delays.push(ms), Promise.resolve()) };
}

async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: object }[] }> },
  wanted: object = {},
): Promise<number> {
  const { values } = await metric.get();
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(wanted))?.value ?? 0;
}

/** Messages logged through the spied logger method, e.g. `['backfill.start', …]`. */
function messages(spy: MockInstance): unknown[] {
  return spy.mock.calls.map((call: unknown[]) => call[1]);
}

let logs: { info: MockInstance; warn: MockInstance; error: MockInstance };

beforeEach(() => {
  logs = {
    info: vi.spyOn(logger, 'info').mockImplementation(() => undefined),
    warn: vi.spyOn(logger, 'warn').mockImplementation(() => undefined),
    error: vi.spyOn(logger, 'error').mockImplementation(() => undefined),
  };
});

afterEach(() => {
  resetMetrics();
  vi.restoreAllMocks();
});

describe('BackfillEngine', () => {
  it('delivers fetched rows to the target as [ts, row] items', async () => {
    const provider = new MemoryHistoryProvider([
      { ts: 0, close: 1 },
      { ts: 60, close: 2 },
      { ts: 120, close: 3 },
    ]);
    const target = recordingTarget();
    const engine = new BackfillEngine(provider);
    const result = await engine.submit(key, 0, 120, target);
    await engine.wait();
    expect(result).toEqual({ nodeId: 'node-a', interval: 60, start: 0, end: 120, rows: 2, attempts: 1 });
    expect(target.calls).toEqual([
      {
        upstreamId: 'node-a',
        interval: 60,
        items: [
          [0, { ts: 0, close: 1 }],
          [60, { ts: 60, close: 2 }],
        ],
      },
    ]);
    expect(await metricValue(sdkMetrics.backfillLastTimestamp, labels)).toBe(120);
    expect(await metricValue(sdkMetrics.backfillJobsInProgress)).toBe(0);
    expect(messages(logs.info)).toEqual(['backfill.start', 'backfill.complete']);
    expect(logs.info.mock.calls[0]?.[0]).toEqual({ node_id: 'node-a', interval: 60, start: 0, end: 120 });
  });

  it('retries failed fetches with backoff and then succeeds', async () => {
    const fetcher = flakyFetcher(2);
    const clock = recordingSleep();
    const engine = new BackfillEngine(fetcher, { sleep: clock.sleep, baseDelayMs: 10 });
    const target = recordingTarget();
    const result = await engine.submit(key, 0, 180, target);
    expect(result.attempts).toBe(3);
    expect(fetcher.tries).toBe(3);
    expect(clock.delays).toHaveLength(2);
    expect(clock.delays.every((ms) => ms >= 0 && ms < 20)).toBe(true);
    expect(target.calls[0]?.items).toHaveLength(3);
    expect(await metricValue(sdkMetrics.backfillRetryTotal, labels)).toBe(2);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(0);
    expect(await sdkRegistry.getSingleMetricAsString('backfill_retry_total')).toContain(
      'backfill_retry_total{node_id="node-a",interval="60"} 2',
    );
  });

  it('fails after maxRetries + 1 tries with a BackfillFailed error', async () => {
    const fetcher = flakyFetcher(Infinity);
    const engine = new BackfillEngine(fetcher, { maxRetries: 2, sleep: recordingSleep().sleep });
    const target = recordingTarget();
    const error = await engine.submit(key, 0, 600, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.BackfillFailed);
    expect((error as QmtlError).message).toBe(
      'Backfill of node "node-a" (interval 60) for [0, 600) failed after 3 attempts: unavailable 3',
    );
    expect(((error as QmtlError).cause as Error).message).toBe('unavailable 3');
    expect(fetcher.tries).toBe(3);
    expect(target.calls).toEqual([]);
    expect(await metricValue(sdkMetrics.backfillRetryTotal, labels)).toBe(3);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(1);
    expect(await metricValue(sdkMetrics.backfillJobsInProgress)).toBe(0);
    expect(await metricValue(sdkMetrics.backfillLastTimestamp, labels)).toBe(0);
    expect(messages(logs.warn)).toEqual(['backfill.retry', 'backfill.retry', 'backfill.retry']);
    expect(messages(logs.error)).toEqual(['backfill.failed']);
    await expect(engine.wait()).rejects.toBe(error);
  });

  it('reports a target that throws as a failed job', async () => {
    const engine = new BackfillEngine(flakyFetcher(0));
    const target: BackfillTarget = {
      backfillBulk: () => {
        throw new Error('cache full');
      },
    };
    await expect(engine.submit(key, 0, 60, target)).rejects.toThrow(
      'fetched in 1 attempt(s) but could not be delivered: cache full',
    );
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(1);
    await expect(engine.wait()).rejects.toThrow('cache full');
  });

  it('waits for every job and rejects with the first failure after all settle', async () => {
    const failing: DataFetcher = {
      fetch: (start) =>
        start === 60 ? Promise.reject(new Error('bad range')) : Promise.resolve([{ ts: start }]),
    };
    const engine = new BackfillEngine(failing, { maxRetries: 0 });
    const target = recordingTarget();
    void engine.submit(key, 0, 60, target);
    void engine.submit(key, 60, 120, target);
    void engine.submit(key, 120, 180, target);
    await expect(engine.wait()).rejects.toThrow('bad range');
    expect(target.calls).toHaveLength(2);
    await expect(engine.wait()).resolves.toBeUndefined();
  });

  it('resolves wait at once when nothing was submitted', async () => {
    await expect(new BackfillEngine(flakyFetcher(0)).wait()).resolves.toBeUndefined();
  });

  it('runs at most `concurrency` jobs at a time', async () => {
    let active = 0;
    let maxActive = 0;
    let maxGauge = 0;
    const fetcher: DataFetcher = {
      fetch: async (start) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        maxGauge = Math.max(maxGauge, await metricValue(sdkMetrics.backfillJobsInProgress));
        await new Promise((resolve) => setImmediate(resolve));
        active -= 1;
        return [{ ts: start }];
      },
    };
    const engine = new BackfillEngine(fetcher, { concurrency: 3 });
    const target = recordingTarget();
    for (let i = 0; i < 10; i += 1) void engine.submit(key, i * 60, i * 60 + 60, target);
    await engine.wait();
    expect(maxActive).toBe(3);
    expect(maxGauge).toBe(3);
    expect(target.calls).toHaveLength(10);
  });

  it('fetches rows with retries for fetchRows without a target', async () => {
    const fetcher = flakyFetcher(1);
    const engine = new BackfillEngine(fetcher, { sleep: recordingSleep().sleep });
    const rows = await engine.fetchRows(key, 0, 180);
    expect(rows.map((r) => r.ts)).toEqual([0, 60, 120]);
    expect(await metricValue(sdkMetrics.backfillRetryTotal, labels)).toBe(1);
    expect(await metricValue(sdkMetrics.backfillLastTimestamp, labels)).toBe(180);
    await expect(engine.wait()).resolves.toBeUndefined();
  });

  it('drops rows outside the asked [start, end), warning once per stream', async () => {
    // A provider that ignores the range and returns everything it holds.
    const all: HistoryRow[] = Array.from({ length: 10 }, (_, i) => ({ ts: i * 60, close: i }));
    const engine = new BackfillEngine({ fetch: () => Promise.resolve([...all].reverse()) });
    const target = recordingTarget();
    const result = await engine.submit(key, 120, 300, target);
    expect(result.rows).toBe(3);
    expect(target.calls[0]?.items.map(([ts]) => ts)).toEqual([240, 180, 120]);
    expect((await engine.fetchRows(key, 300, 360)).map((r) => r.ts)).toEqual([300]);
    const warnings = logs.warn.mock.calls.filter(([, message]) =>
      String(message).startsWith('backfill.outside_range'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toMatchObject({ node_id: 'node-a', start: 120, end: 300, dropped: 7, rows: 10 });
    // A row without a numeric ts is not dropped here: the caller reports it.
    const odd = new BackfillEngine({ fetch: () => Promise.resolve([{ ts: 'x' } as never]) });
    expect(await odd.fetchRows(key, 0, 60)).toHaveLength(1);
  });

  it('marks only the asked range as backfilled in a NodeCache', async () => {
    const all: HistoryRow[] = Array.from({ length: 30 }, (_, i) => ({ ts: i * 60, close: i }));
    const cache = new NodeCache(100);
    await new BackfillEngine({ fetch: () => Promise.resolve(all) }).submit(
      { nodeId: 'u', interval: 60 },
      600,
      1200,
      cache,
    );
    expect(cache.backfillState.ranges('u', 60)).toEqual([[600, 1140]]);
  });

  it('rejects fetchRows with BackfillFailed after every try fails', async () => {
    const engine = new BackfillEngine(flakyFetcher(Infinity), {
      maxRetries: 1,
      sleep: recordingSleep().sleep,
    });
    await expect(engine.fetchRows(key, 0, 60)).rejects.toThrow(
      expect.objectContaining({ code: ErrorCode.BackfillFailed }),
    );
  });

  it('stops retrying an abandoned fetchRows and does not count it as a failed job', async () => {
    const fetcher = flakyFetcher(Infinity);
    const abandon = new AbortController();
    const reason = new Error('abandoned');
    const engine = new BackfillEngine(fetcher, {
      maxRetries: 5,
      sleep: (_ms, signal) => {
        abandon.abort(reason);
        return signal?.aborted === true ? Promise.reject(signal.reason as Error) : Promise.resolve();
      },
    });
    await expect(engine.fetchRows(key, 0, 60, { signal: abandon.signal })).rejects.toBe(reason);
    expect(fetcher.tries).toBe(1);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(0);
    expect(await metricValue(sdkMetrics.backfillJobsInProgress)).toBe(0);
  });

  it('retries a failing fillMissing with backoff and counts the retries', async () => {
    const provider = new MemoryHistoryProvider([], { fetcher: flakyFetcher(2) });
    const clock = recordingSleep();
    const engine = new BackfillEngine(provider, { sleep: clock.sleep, baseDelayMs: 10 });
    await engine.fillMissing(key, 0, 120);
    expect(await provider.coverage(key)).toEqual([[0, 120]]);
    expect(clock.delays).toHaveLength(2);
    expect(await metricValue(sdkMetrics.backfillRetryTotal, labels)).toBe(2);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(0);
    expect(await metricValue(sdkMetrics.backfillJobsInProgress)).toBe(0);
  });

  it('fails fillMissing with HistoryUnavailable naming the stream and range after every try', async () => {
    const fetcher = flakyFetcher(Infinity);
    const provider = new MemoryHistoryProvider([], { fetcher });
    const engine = new BackfillEngine(provider, { maxRetries: 2, sleep: recordingSleep().sleep });
    const error = await engine
      .fillMissing(key, 0, 120, { label: 'StreamInput "price"' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.HistoryUnavailable,
      message:
        'history provider of StreamInput "price" failed in fillMissing for [0, 120] after 3 attempt(s): unavailable 3',
    });
    expect(fetcher.tries).toBe(3);
    expect(await metricValue(sdkMetrics.backfillRetryTotal, labels)).toBe(3);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(1);
    await expect(new BackfillEngine(flakyFetcher(0)).fillMissing(key, 0, 60)).rejects.toThrow(
      /needs a HistoryProvider/,
    );
  });

  it('fails a provider call that never settles with a Timeout naming the call, stream and range, without retrying', async () => {
    let calls = 0;
    const hung = {
      fetch: () => (calls++, new Promise<never>(() => undefined)),
      coverage: () => Promise.resolve([]),
      fillMissing: () => (calls++, new Promise<never>(() => undefined)),
    };
    const engine = new BackfillEngine(hung, { timeoutMs: 20, sleep: recordingSleep().sleep });
    await expect(engine.fetchRows(key, 0, 120)).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringContaining(
        'history provider of node "node-a" (interval 60) did not answer fetch of [0, 120) within 20 ms',
      ) as string,
    });
    await expect(engine.fillMissing(key, 0, 120, { label: 'StreamInput "price"' })).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringContaining(
        'history provider of StreamInput "price" did not answer fillMissing of [0, 120] within 20 ms',
      ) as string,
    });
    expect(calls).toBe(2);
    expect(await metricValue(sdkMetrics.backfillFailureTotal, labels)).toBe(2);
    expect(await metricValue(sdkMetrics.backfillJobsInProgress)).toBe(0);
    // Its timer is cleared when an abandoned call is aborted, so it keeps nothing alive.
    const abandon = new AbortController();
    const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
    const pending = engine.fetchRows(key, 0, 60, { signal: abandon.signal });
    await new Promise((resolve) => setImmediate(resolve));
    abandon.abort(new Error('abandoned'));
    await expect(pending).rejects.toThrow('abandoned');
    expect(clearTimeoutSpy).toHaveBeenCalled();
    expect(() => new BackfillEngine(hung, { timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
    expect(() => new BackfillEngine(hung, { timeoutMs: 2 ** 31 })).toThrow(/or Infinity/);
    expect(new BackfillEngine(hung, { timeoutMs: Infinity }).timeoutMs).toBe(Infinity);
    expect(new BackfillEngine(hung).timeoutMs).toBe(300_000);
  });

  it('rejects invalid options and ranges with InvalidArgument', () => {
    const invalid = expect.objectContaining({ code: ErrorCode.InvalidArgument });
    expect(() => new BackfillEngine(flakyFetcher(0), { concurrency: 0 })).toThrow(invalid);
    expect(() => new BackfillEngine(flakyFetcher(0), { maxRetries: -1 })).toThrow(invalid);
    expect(() => new BackfillEngine(flakyFetcher(0)).submit(key, 120, 60, recordingTarget())).toThrow(
      invalid,
    );
  });

  it('draws progress on a given stream', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const engine = new BackfillEngine(flakyFetcher(0), { progress: stream });
    void engine.submit(key, 0, 120, recordingTarget());
    void engine.submit(key, 120, 180, recordingTarget());
    await engine.wait();
    const output = chunks.join('');
    expect(output.startsWith('\r')).toBe(true);
    expect(output).toContain('2/2 jobs, 3 rows\n');
  });

  it('draws no progress when stderr is not a TTY', async () => {
    const original = process.stderr.isTTY;
    const writes: unknown[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.isTTY = false;
    process.stderr.write = (chunk: unknown) => (writes.push(chunk), true);
    try {
      const engine = new BackfillEngine(flakyFetcher(0), { progress: true });
      await engine.submit(key, 0, 60, recordingTarget());
    } finally {
      process.stderr.write = write;
      process.stderr.isTTY = original;
    }
    expect(writes.filter((chunk) => String(chunk).includes('backfill ['))).toEqual([]);
  });
});
