import { describe, expect, it, vi } from 'vitest';
import { logger } from '../../common/logger.js';
import { QmtlError } from '../../common/errors.js';
import { freePort } from '../../../tests/support/service-process.js';
import type { DataFetcher, HistoryProvider, HistoryRow, StreamKey } from '../history/protocols.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { sdkRegistry } from '../metrics.js';
import { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';
import { Strategy } from '../strategy.js';
import { TagQueryNode } from '../tag-query-node.js';
import { Runner } from './runner.js';

const bars = (values: number[], interval = 60, start = interval): HistoryRow[] =>
  values.map((v, i) => ({ ts: start + i * interval, value: v }));
/** The mean of the `value` field over the node's window: a stand-in for an indicator. */
const mean = (source: Node, period: number) =>
  new ProcessingNode({
    input: source,
    period,
    computeFn: (view) =>
      (view
        .input<{ value: number }>()
        .field('value')
        .reduce((a, b) => (a as number) + (b as number), 0) as number) / view.input().length,
  });
const value = (view: { input(k?: number): { latest(): unknown } }, k = 0) =>
  (view.input(k).latest() as { value: number }).value;

/** A strategy built from a function, so each test states its DAG inline. */
function strategyOf(build: (s: Strategy) => void, name = 'TestStrategy'): Strategy {
  const strategy = new (class extends Strategy {
    setup(): void {
      build(this);
    }
  })({ defaultInterval: 60, defaultPeriod: 1 });
  Object.defineProperty(strategy.constructor, 'name', { value: name });
  return strategy;
}

function stream(provider: HistoryProvider, tags = ['x'], interval = 60): StreamInput {
  return new StreamInput({ tags, interval, period: 1, historyProvider: provider });
}

describe('Runner.backtest', () => {
  it('holds a node back until every declared upstream has period bars, then computes every bar', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3, 4, 5, 6]));
    let sum!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(provider);
        sum = new ProcessingNode({
          input: price,
          period: 3,
          computeFn: (view) =>
            view
              .input<{ value: number }>()
              .field('value')
              .reduce((a, b) => (a as number) + (b as number), 0),
        });
        s.addNodes([price, sum]);
      }),
      { startTime: 60, endTime: 360 },
    );
    expect(result.outputs(sum).toArray()).toEqual([
      [180, 6],
      [240, 9],
      [300, 12],
      [360, 15],
    ]);
    expect(result.stats(sum)).toMatchObject({ computeCalls: 4, warmupBars: 2, outputs: 4 });
  });

  it('waits for all upstreams, including one that starts later', async () => {
    const a = new MemoryHistoryProvider(bars([1, 2, 3, 4]));
    const b = new MemoryHistoryProvider(bars([10, 20], 60, 180));
    let pair!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const left = stream(a, ['a']);
        const right = stream(b, ['b']);
        pair = new ProcessingNode({
          input: [left, right],
          period: 2,
          computeFn: (view) => value(view, 0) + value(view, 1),
        });
        s.addNodes([left, right, pair]);
      }),
      { startTime: 60, endTime: 240 },
    );
    expect(result.outputs(pair).toArray()).toEqual([[240, 24]]);
    expect(result.stats(pair).warmupBars).toBe(3);
  });

  it('skips a trigger after a missing bucket by default and fails with onMissing "fail"', async () => {
    const rows = bars([1, 2, 3, 4, 5]).filter((r) => r.ts !== 180);
    const build = (node: { current?: Node }) =>
      strategyOf((s) => {
        const price = stream(new MemoryHistoryProvider(rows));
        node.current = new ProcessingNode({ name: 'echo', input: price, computeFn: (view) => value(view) });
        s.addNodes([price, node.current]);
      });
    const skipped: { current?: Node } = {};
    const warn = vi.spyOn(logger, 'warn');
    const result = await Runner.backtest(build(skipped), { startTime: 60, endTime: 300 });
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'echo', expected: 180, actual: 240 }),
      'missing upstream bucket: trigger skipped (later skips of this node are logged at debug)',
    );
    warn.mockRestore();
    expect(result.outputs(skipped.current!).toArray()).toEqual([
      [60, 1],
      [120, 2],
      [300, 5],
    ]);
    expect(result.stats(skipped.current!)).toMatchObject({ skips: 1, gaps: 1 });
    const error = await Runner.backtest(build({}), { startTime: 60, endTime: 300, onMissing: 'fail' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe('QMTL_MISSING_DATA');
    expect((error as QmtlError).message).toMatch(
      /node "echo".*upstream "stream_\w+" \(\w+…\) is missing data: expected bucket 1970-01-01T00:03:00Z \(180\), got 1970-01-01T00:04:00Z \(240\)/,
    );
  });

  it('applies a late correction of the newest bucket before computing it, once', async () => {
    const provider = new MemoryHistoryProvider([
      { ts: 60, value: 1 },
      { ts: 120, value: 2 },
      { ts: 150, value: 20 },
      { ts: 180, value: 3 },
    ]);
    let echo!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(provider);
        echo = new ProcessingNode({ input: price, computeFn: (view) => value(view) });
        s.addNodes([price, echo]);
      }),
      { startTime: 60, endTime: 180 },
    );
    expect(result.outputs(echo).toArray()).toEqual([
      [60, 1],
      [120, 20],
      [180, 3],
    ]);
    expect(result.stats(echo)).toMatchObject({ computeCalls: 3, corrections: 1, gaps: 0 });
  });

  it('counts a bar corrected by a duplicate timestamp once in bars, as the cache does', async () => {
    // The provider repeats ts 120 (a late correction) and sends 150, another row of bucket 120.
    const rows: HistoryRow[] = [
      { ts: 60, value: 1 },
      { ts: 120, value: 2 },
      { ts: 120, value: 20 },
      { ts: 150, value: 200 },
      { ts: 180, value: 3 },
    ];
    const provider: HistoryProvider = {
      fetch: (start, end) => Promise.resolve(rows.filter((row) => row.ts >= start && row.ts < end)),
      coverage: () => Promise.resolve([[60, 180]]),
      fillMissing: () => Promise.resolve(),
    };
    const other = new MemoryHistoryProvider(bars([7, 8, 9]));
    const run = (sources: HistoryProvider[]) => {
      let echo!: Node;
      const result = Runner.backtest(
        strategyOf((s) => {
          const inputs = sources.map((source, k) => stream(source, [`dup-${k}`]));
          echo = new ProcessingNode({ input: inputs[0]!, computeFn: (view) => value(view) });
          s.addNodes([...inputs, echo]);
        }),
        { startTime: 60, endTime: 180 },
      );
      return result.then((r) => ({ bars: r.bars, ticks: r.ticks, echo: r.stats(echo) }));
    };
    const single = await run([provider]);
    expect([single.bars, single.ticks]).toEqual([3, 3]);
    expect(single.echo).toMatchObject({ corrections: 2, computeCalls: 3 });
    const merged = await run([provider, other]);
    expect([merged.bars, merged.ticks]).toEqual([6, 3]);
  });

  it('replays several streams merged in timestamp order, equal buckets in one tick', async () => {
    const fast = new MemoryHistoryProvider(bars([1, 2, 3, 4, 5, 6], 60, 60));
    const slow = new MemoryHistoryProvider(bars([100, 200], 180, 180));
    const seen: string[] = [];
    let join!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const a = stream(fast, ['fast'], 60);
        const b = stream(slow, ['slow'], 180);
        join = new ProcessingNode({
          input: [a, b],
          interval: 60,
          computeFn: (view) => {
            seen.push(`${view.time}:${value(view, 0)}+${value(view, 1)}`);
            return value(view, 0) + value(view, 1);
          },
        });
        s.addNodes([a, b, join]);
      }),
      { startTime: 60, endTime: 360 },
    );
    expect(seen).toEqual(['180:3+100', '240:4+100', '300:5+100', '360:6+200']);
    expect(result.ticks).toBe(6);
    expect(result.bars).toBe(8);
  });

  it('computes a node shared by several strategies once and gives each the same outputs', async () => {
    const provider = new MemoryHistoryProvider(bars(Array.from({ length: 50 }, (_, i) => 100 + Math.sin(i))));
    const leaves: Node[] = [];
    const make = (name: string) =>
      strategyOf((s) => {
        const price = stream(provider);
        const average = mean(price, 5);
        const leaf = new ProcessingNode({ input: average, computeFn: (view) => view.input().latest()! * 2 });
        leaves.push(leaf);
        s.addNodes([price, average, leaf]);
      }, name);
    const result = await Runner.run([make('A'), make('B'), make('C')], { startTime: 60, endTime: 3000 });
    const average = result.strategies[0]!.nodes[1]!;
    expect(result.stats(average)).toMatchObject({ computeCalls: 46, strategies: 3 });
    expect(result.outputs(leaves[0]!).toArray()).toEqual(result.outputs(leaves[2]!).toArray());
    expect(result.dedup).toEqual({
      strategies: 3,
      nodesInDags: 9,
      nodesComputed: 3,
      computeCalls: 92,
      computeCallsSaved: 184,
    });
  });

  it('gives identical outputs on every run and for any history window size', async () => {
    const provider = new MemoryHistoryProvider(bars(Array.from({ length: 200 }, (_, i) => (i * 7919) % 101)));
    const run = async (windowBars: number) => {
      const result = await Runner.backtest(
        strategyOf((s) => {
          const price = stream(provider);
          s.addNodes([price, mean(price, 10)]);
        }),
        { startTime: 60, endTime: 12_000, windowBars },
      );
      return JSON.stringify(result.outputs(result.strategy.nodes[1]!).toArray());
    };
    const reference = await run(65_536);
    expect(await run(65_536)).toBe(reference);
    expect(await run(7)).toBe(reference);
    expect(await run(1)).toBe(reference);
  });

  it('keeps outputs of leaves by default, of every node with "all", and explains how to keep others', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3]));
    const build = () =>
      strategyOf((s) => {
        const price = stream(provider);
        const echo = new ProcessingNode({ input: price, computeFn: (view) => value(view) });
        s.addNodes([price, echo]);
      });
    const leavesOnly = await Runner.backtest(build(), { startTime: 60, endTime: 180 });
    expect(leavesOnly.outputs(leavesOnly.strategy.nodes[1]!).length).toBe(3);
    expect(() => leavesOnly.outputs(leavesOnly.strategy.nodes[0]!)).toThrow(
      /were not kept.*keepOutputs: 'all'/,
    );
    const all = await Runner.backtest(build(), { startTime: 60, endTime: 180, keepOutputs: 'all' });
    expect(all.outputs(all.strategy.nodes[0]!).toArray()[0]).toEqual([60, { ts: 60, value: 1 }]);
    expect(() => all.outputs('f'.repeat(64))).toThrow(/is not part of this run/);
  });

  it('gives the same result for any window size when a provider returns rows outside the asked range', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    // One provider ignores `end` (returns everything from `start`), the other is correct.
    class IgnoresEnd extends MemoryHistoryProvider {
      override fetch(start: number, _end: number, key: StreamKey) {
        return super.fetch(start, Infinity, key);
      }
    }
    const values = Array.from({ length: 100 }, (_, i) => i);
    const run = async (windowBars: number) => {
      const sloppy = new IgnoresEnd(bars(values), { sourceId: 'a' });
      const exact = new MemoryHistoryProvider(bars(values.map((v) => 1000 + v)), { sourceId: 'b' });
      const result = await Runner.backtest(
        strategyOf((s) => {
          const [a, b] = [stream(sloppy, ['a']), stream(exact, ['b'])];
          s.addNodes([
            a,
            b,
            new ProcessingNode({ input: [a, b], computeFn: (v) => [value(v, 0), value(v, 1)] }),
          ]);
        }),
        { startTime: 60, endTime: 6000, windowBars, keepOutputs: 'all' },
      );
      const [a, , pair] = result.strategy.nodes;
      return {
        bars: result.bars,
        ticks: result.ticks,
        outputs: result.outputs(pair!).toArray(),
        a: result.stats(a!),
        pair: result.stats(pair!),
      };
    };
    const [small, large] = [await run(7), await run(1000)];
    expect(small).toEqual(large);
    expect(large.bars).toBe(200);
    expect(large.outputs).toHaveLength(100);
    const aligned = large.outputs.every(([t, pair]) => {
      const [a, b] = pair as [number, number];
      return a === t / 60 - 1 && b === 1000 + a;
    });
    expect(aligned).toBe(true);
  });

  it('warns once when one stream has different history providers, whose data would be ignored', async () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const [a, b] = [new MemoryHistoryProvider(bars([1, 2])), new MemoryHistoryProvider(bars([9, 9]))];
    await Runner.backtest(
      [strategyOf((s) => s.addNodes(stream(a)), 'A'), strategyOf((s) => s.addNodes(stream(b)), 'B')],
      { startTime: 60, endTime: 120 },
    );
    const calls = warn.mock.calls.filter(([, message]) =>
      String(message).includes('different history providers'),
    );
    expect(calls).toHaveLength(1);
    warn.mockClear();
    await Runner.backtest(
      [strategyOf((s) => s.addNodes(stream(a)), 'A'), strategyOf((s) => s.addNodes(stream(a)), 'B')],
      { startTime: 60, endTime: 120 },
    );
    expect(
      warn.mock.calls.some(([, message]) => String(message).includes('different history providers')),
    ).toBe(false);
    warn.mockRestore();
  });

  it('keeps declared input positions when two inputs are one node (found by the sharing property test)', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3]));
    let pair!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(provider);
        const [a, b] = [mean(price, 1), mean(price, 1)];
        expect(a.nodeId).toBe(b.nodeId);
        pair = new ProcessingNode({
          input: [a, b, price],
          computeFn: (view) => [view.input(0).latest(), view.input(1).latest(), value(view, 2)],
        });
        s.addNodes([price, a, b, pair]);
      }),
      { startTime: 60, endTime: 180 },
    );
    expect(result.outputs(pair).values()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ]);
  });

  it('stops a branch when a node returns null and passes values through a node without a function', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3, 4]));
    let child!: Node;
    let gate!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(provider);
        gate = new ProcessingNode({
          input: price,
          computeFn: (view) => (value(view) % 2 === 0 ? value(view) : null),
        });
        child = new Node({ input: gate });
        s.addNodes([price, gate, child]);
      }),
      { startTime: 60, endTime: 240 },
    );
    expect(result.outputs(child).toArray()).toEqual([
      [120, 2],
      [240, 4],
    ]);
    expect(result.stats(gate).emptyOutputs).toBe(2);
    expect(result.stats(child).computeCalls).toBe(0);
  });

  it('wraps a failing compute function in an error naming the node and the bucket', async () => {
    const provider = new MemoryHistoryProvider(bars([1]));
    const strategy = strategyOf((s) => {
      const price = stream(provider);
      s.addNodes([
        price,
        new ProcessingNode({
          name: 'boom',
          input: price,
          computeFn: (_view) => {
            throw new Error('kaput');
          },
        }),
      ]);
    });
    await expect(Runner.backtest(strategy, { startTime: 60, endTime: 60 })).rejects.toThrow(
      /node "boom" .* failed computing bucket 1970-01-01T00:01:00Z: kaput/,
    );
  });

  it('leaves a TagQueryNode idle when it has no queues, and says so', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2]));
    const warn = vi.spyOn(logger, 'warn');
    const result = await Runner.backtest(
      strategyOf((s) => {
        const query = new TagQueryNode({
          queryTags: ['ta'],
          interval: 60,
          period: 1,
          computeFn: (view) => view.time,
        });
        s.addNodes([stream(provider), query]);
      }),
      { startTime: 60, endTime: 120 },
    );
    expect(result.stats(result.strategy.nodes[1]!).computeCalls).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ query_tags: ['ta'] }),
      expect.stringContaining('TagQueryNode has no queues in a backtest or offline run'),
    );
    warn.mockRestore();
  });

  it('publishes node metrics window by window while the replay runs', async () => {
    const provider = new MemoryHistoryProvider(bars(Array.from({ length: 30 }, (_, i) => i)));
    let echo!: Node;
    const seen: number[] = [];
    const computeTotal = async (): Promise<number> =>
      (await sdkRegistry.getSingleMetric('node_compute_total')!.get()).values.find(
        (v) => v.labels['node_id'] === echo.nodeId,
      )?.value ?? 0;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const price = stream(provider, ['metrics']);
        echo = new ProcessingNode({ name: 'echo', input: price, computeFn: (view) => value(view) });
        s.addNodes([price, echo]);
      }),
      {
        startTime: 60,
        endTime: 1800,
        windowBars: 10,
        onProgress: () => void computeTotal().then((total) => seen.push(total)),
      },
    );
    await new Promise((r) => setImmediate(r));
    // Each window's progress sees the calls so far: growing, the first short of the run's total.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[0]).toBeLessThan(seen.at(-1)!);
    expect(seen.at(-1)).toBe(result.stats(echo).computeCalls);
  });

  it('counts CacheView reads when asked to', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3]));
    const strategy = strategyOf((s) => {
      const price = stream(provider, ['tracked']);
      s.addNodes([price, new ProcessingNode({ input: price, computeFn: (view) => value(view) })]);
    });
    await Runner.backtest(strategy, { startTime: 60, endTime: 180, trackReads: true });
    const metric = await sdkRegistry.getSingleMetric('cache_read_total')!.get();
    const reads = metric.values.find((v) => v.labels['upstream_id'] === strategy.nodes[0]!.nodeId);
    expect(reads?.value).toBe(3);
  });
});

describe('history loading', () => {
  class GappyProvider implements HistoryProvider {
    readonly calls: string[] = [];
    readonly inner: MemoryHistoryProvider;
    constructor(
      rows: HistoryRow[],
      private readonly fills: boolean,
    ) {
      this.inner = new MemoryHistoryProvider(rows);
    }
    fetch(start: number, end: number, key: StreamKey) {
      return this.inner.fetch(start, end, key);
    }
    coverage(key: StreamKey) {
      this.calls.push('coverage');
      return this.inner.coverage(key);
    }
    async fillMissing(start: number, end: number) {
      this.calls.push(`fill ${start}-${end}`);
      if (this.fills)
        this.inner.insert(
          bars(
            Array.from({ length: (end - start) / 60 + 1 }, () => 0),
            60,
            start,
          ),
        );
      return Promise.resolve();
    }
  }

  it('fills each gap once, then replays the filled history', async () => {
    const provider = new GappyProvider(bars([1, 2, 3], 60, 120), true);
    const result = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(provider))),
      { startTime: 60, endTime: 300, keepOutputs: 'all' },
    );
    expect(provider.calls).toEqual(['coverage', 'fill 60-60', 'fill 300-300', 'coverage']);
    expect(result.bars).toBe(5);
    expect(result.historyGaps).toEqual([]);
  });

  it('reports gaps a provider cannot fill instead of looping', async () => {
    const provider = new GappyProvider(bars([1], 60, 120), false);
    const result = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(provider))),
      { startTime: 60, endTime: 240 },
    );
    expect(provider.calls).toEqual(['coverage', 'fill 60-60', 'fill 180-240', 'coverage']);
    expect(result.historyGaps).toEqual([
      {
        nodeId: result.strategy.nodes[0]!.nodeId,
        name: 'stream_input',
        ranges: [
          [60, 60],
          [180, 240],
        ],
      },
    ]);
    expect(result.bars).toBe(1);
  });

  it('retries a failing fetch and names the provider when it keeps failing', async () => {
    let failures = 2;
    const flaky: DataFetcher & HistoryProvider = {
      fetch: (start, end) =>
        failures-- > 0
          ? Promise.reject(new Error('flaky'))
          : Promise.resolve(bars([1], 60, 60).filter((r) => r.ts >= start && r.ts < end)),
      coverage: () => Promise.resolve([[60, 60]]),
      fillMissing: () => Promise.resolve(),
    };
    const ok = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(flaky))),
      { startTime: 60, endTime: 60, keepOutputs: 'all' },
    );
    expect(ok.bars).toBe(1);
    failures = 100;
    await expect(
      Runner.backtest(
        strategyOf((s) => s.addNodes(stream(flaky))),
        { startTime: 60, endTime: 60, maxRetries: 1 },
      ),
    ).rejects.toThrow(/flaky|failed/);
  }, 20_000);

  it('abandons the prefetch of the next window when the replay fails, leaving no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The first window (bars 60 … 600) replays while the second is fetched; that fetch fails
      // after the replay has thrown, so nothing awaits it.
      let laterFetches = 0;
      const provider = new (class extends MemoryHistoryProvider {
        override async fetch(start: number, end: number, key: StreamKey) {
          if (start < 600) return super.fetch(start, end, key);
          laterFetches += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('window 2 unavailable');
        }
      })(bars(Array.from({ length: 30 }, (_, i) => i)));
      const thrower = (s: Strategy) => {
        const input = stream(provider);
        s.addNodes([
          input,
          new ProcessingNode({
            input,
            computeFn: (view) => {
              if (view.time === 300) throw new Error('bad bar');
              return 1;
            },
          }),
        ]);
      };
      await expect(
        Runner.backtest(strategyOf(thrower), { startTime: 60, endTime: 1800, windowBars: 10 }),
      ).rejects.toThrow('bad bar');
      // Long enough for every retry of the abandoned fetch (backoff 100, 200, 400 ms at most).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(unhandled).toEqual([]);
      expect(laterFetches).toBe(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('retries a fillMissing whose fetcher fails for a while, and fails naming the stream when it keeps failing', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    let failures = 2;
    const fetcher: DataFetcher = {
      fetch: (start, end) =>
        failures-- > 0
          ? Promise.reject(new Error('ECONNRESET'))
          : Promise.resolve(bars([7, 8, 9], 60, 60).filter((r) => r.ts >= start && r.ts < end)),
    };
    const provider = new MemoryHistoryProvider([], { fetcher });
    const ok = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(provider))),
      { startTime: 60, endTime: 180, keepOutputs: 'all' },
    );
    expect([ok.bars, ok.historyGaps]).toEqual([3, []]);
    failures = Infinity;
    const error = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(new MemoryHistoryProvider([], { fetcher })))),
      { startTime: 60, endTime: 180, maxRetries: 1 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'QMTL_HISTORY_UNAVAILABLE',
      message:
        'history provider of StreamInput "stream_input" failed in fillMissing for [60, 180] after 2 attempt(s): ECONNRESET',
    });
  });

  it('fails a run whose provider never answers with a Timeout naming the call, stream and range', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const never = () => new Promise<never>(() => undefined);
    const held = new MemoryHistoryProvider(bars([1, 2, 3]));
    const provider = (hang: 'fetch' | 'coverage' | 'fillMissing'): HistoryProvider => ({
      fetch: hang === 'fetch' ? never : (s, e, k) => held.fetch(s, e, k),
      coverage: hang === 'coverage' ? never : (k) => held.coverage(k),
      fillMissing: hang === 'fillMissing' ? never : () => Promise.resolve(),
    });
    const run = (hang: 'fetch' | 'coverage' | 'fillMissing') =>
      Runner.backtest(
        strategyOf((s) => s.addNodes(stream(provider(hang)))),
        { startTime: hang === 'fillMissing' ? 0 : 60, endTime: 180, historyTimeoutMs: 30 },
      );
    const prefix = 'history provider of StreamInput "stream_input" did not answer';
    await expect(run('fetch')).rejects.toMatchObject({
      code: 'QMTL_TIMEOUT',
      message: expect.stringContaining(`${prefix} fetch of [60, 181) within 30 ms`) as string,
    });
    await expect(run('coverage')).rejects.toMatchObject({
      code: 'QMTL_TIMEOUT',
      message: expect.stringContaining(`${prefix} coverage within 30 ms`) as string,
    });
    await expect(run('fillMissing')).rejects.toMatchObject({
      code: 'QMTL_TIMEOUT',
      message: expect.stringContaining(`${prefix} fillMissing of [0, 0] within 30 ms`) as string,
    });
    await expect(
      Runner.backtest(
        strategyOf((s) => s.addNodes(stream(held))),
        {
          startTime: 60,
          endTime: 180,
          historyTimeoutMs: -1,
        },
      ),
    ).rejects.toThrow(/historyTimeoutMs must be a positive number of ms/);
  });

  it('accepts a provider whose methods return plain values instead of promises', async () => {
    const fills: string[] = [];
    const plain = {
      fetch: (start: number, end: number) =>
        bars([1, 2, 3], 60, 120).filter((r) => r.ts >= start && r.ts < end),
      coverage: () => [[120, 240]],
      fillMissing: (start: number, end: number) => void fills.push(`${start}-${end}`),
    } as unknown as HistoryProvider;
    const result = await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(plain))),
      { startTime: 60, endTime: 240, keepOutputs: 'all' },
    );
    expect([result.bars, fills]).toEqual([3, ['60-60']]);
  });

  it('lets timers run during a long replay of a provider that answers at once', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2], 1, 0));
    let timerFired = false;
    let timerFiredBeforeTheEnd = false;
    setTimeout(() => (timerFired = true), 0);
    // 60 million empty one-second buckets in windows of 1,000: 60,000 windows (~0.5 s here).
    await Runner.backtest(
      strategyOf((s) => s.addNodes(stream(provider, ['x'], 1))),
      {
        startTime: 0,
        endTime: 60_000_000,
        windowBars: 1_000,
        onProgress: ({ fraction }) => {
          if (fraction < 1 && timerFired) timerFiredBeforeTheEnd = true;
        },
      },
    );
    expect(timerFiredBeforeTheEnd).toBe(true);
  });

  it('offline replays everything the providers hold when no times are given', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2, 3, 4], 60, 600));
    const result = await Runner.offline(
      strategyOf((s) => s.addNodes(stream(provider))),
      { keepOutputs: 'all' },
    );
    expect([result.startTime, result.endTime, result.bars]).toEqual([600, 780, 4]);
  });

  it('offline warns when a start time lies after all the data, instead of replaying nothing silently', async () => {
    const provider = new MemoryHistoryProvider(bars([1, 2], 60, 600));
    const warn = vi.spyOn(logger, 'warn');
    const result = await Runner.offline(
      strategyOf((s) => s.addNodes(stream(provider))),
      { startTime: 3600 },
    );
    expect([result.startTime, result.bars]).toEqual([null, 0]);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({
        start: '1970-01-01T01:00:00Z',
        held: ['1970-01-01T00:10:00Z', '1970-01-01T00:11:00Z'],
      }),
      expect.stringContaining('the providers hold no data in the asked span'),
    );
    warn.mockRestore();
  });
});

describe('Runner arguments', () => {
  const trivial = () => strategyOf((s) => s.addNodes(stream(new MemoryHistoryProvider([]))));

  it('requires start and end for a backtest and checks their order', async () => {
    await expect(Runner.backtest(trivial(), {})).rejects.toThrow(/needs both startTime and endTime/);
    await expect(Runner.backtest(trivial(), { startTime: 'yesterday', endTime: 1 })).rejects.toThrow(
      /startTime must be epoch seconds.*"yesterday"/,
    );
    await expect(Runner.backtest(trivial(), { startTime: 100, endTime: 50 })).rejects.toThrow(
      /startTime 100 is after endTime 50/,
    );
  });

  it('refuses an end time in milliseconds instead of replaying tens of thousands of years', async () => {
    await expect(Runner.backtest(trivial(), { startTime: 0, endTime: 1_704_067_800_000 })).rejects.toThrow(
      /endTime must be between year 1 and year 9999, got 1704067800000; it looks like epoch milliseconds \(2024-01-01T00:10:00Z\)/,
    );
  });

  it('refuses keepOutputs entries that are not nodes of the run, naming the position', async () => {
    const stray = stream(new MemoryHistoryProvider([]), ['elsewhere']);
    await expect(
      Runner.backtest(trivial(), { startTime: 60, endTime: 60, keepOutputs: [stray] }),
    ).rejects.toThrow(
      /keepOutputs\[0\] must be a node of the run's strategies, got StreamInput ".*", which is in none/,
    );
    await expect(
      Runner.backtest(trivial(), { startTime: 60, endTime: 60, keepOutputs: [5] as never }),
    ).rejects.toThrow(/keepOutputs\[0\] must be a node of the run's strategies, got 5/);
  });

  it('names the node whose period is too large to hold in memory', async () => {
    const provider = new MemoryHistoryProvider(bars([1]));
    await expect(
      Runner.backtest(
        strategyOf((s) => {
          const price = stream(provider);
          s.addNodes([
            price,
            new ProcessingNode({ name: 'huge', input: price, period: 1e10, computeFn: value }),
          ]);
        }),
        { startTime: 60, endTime: 60 },
      ),
    ).rejects.toThrow(/ProcessingNode "huge": period 10000000000 is too large to hold in memory/);
  });

  it('refuses a distributed dry-run or live run without a topic bus before contacting the Gateway', async () => {
    // Nothing listens on port 1: reaching the Gateway first would fail with "gateway unreachable".
    for (const mode of ['dryrun', 'live'] as const) {
      await expect(Runner[mode](trivial(), { gatewayUrl: 'http://127.0.0.1:1' })).rejects.toThrow(
        'a dry-run or live run with a gatewayUrl (--gateway-url) needs the topic bus the other Runners use: give busDsn (--bus-dsn), e.g. "redis://127.0.0.1:6379" or "kafka://127.0.0.1:9092", or topicBus',
      );
    }
  });

  it('refuses a topic bus that does not answer, naming its DSN and option, before contacting the Gateway', async () => {
    // Nothing listens on port 1: reaching the Gateway first would fail with "gateway unreachable".
    const port = await freePort();
    const cases: [dsn: string, shown: string, cause: string][] = [
      [
        `redis://127.0.0.1:${port}`,
        `redis://127.0.0.1:${port}`,
        `Redis at 127.0.0.1:${port} cannot be reached`,
      ],
      [`redis://app:s3cret@127.0.0.1:${port}/2`, `redis://app:***@127.0.0.1:${port}/2`, 'Redis at'],
      [
        `kafka://127.0.0.1:${port}`,
        `kafka://127.0.0.1:${port}`,
        `Kafka at 127.0.0.1:${port} failed connecting`,
      ],
    ];
    for (const [dsn, shown, cause] of cases) {
      const began = Date.now();
      const error = await Runner.dryrun(trivial(), { gatewayUrl: 'http://127.0.0.1:1', busDsn: dsn }).then(
        () => null,
        (e: unknown) => e as QmtlError,
      );
      expect(error?.code).toBe('QMTL_UNAVAILABLE');
      expect(error?.message).toMatch(
        new RegExp(
          `^the topic bus at busDsn \\(--bus-dsn\\) ${escape(JSON.stringify(shown))} does not answer \\(${escape(cause)}`,
        ),
      );
      expect(error?.message).not.toContain('s3cret');
      expect(Date.now() - began).toBeLessThan(5_000);
    }
  });

  it('accepts ISO strings and Dates', async () => {
    const result = await Runner.backtest(trivial(), {
      startTime: '1970-01-01T00:01:00Z',
      endTime: new Date(120_000),
    });
    expect([result.startTime, result.endTime]).toEqual([60, 120]);
  });

  it('rejects unknown options, bad onMissing, non-strategies, a Gateway offline, an unreachable Gateway', async () => {
    await expect(
      Runner.backtest(trivial(), { startTime: 1, endTime: 2, onMissin: 'fail' } as never),
    ).rejects.toThrow(/unknown run option "onMissin"/);
    await expect(
      Runner.backtest(trivial(), { startTime: 1, endTime: 2, onMissing: 'ignore' as never }),
    ).rejects.toThrow(/onMissing must be "skip" or "fail", got "ignore"/);
    await expect(
      Runner.backtest(class NotAStrategy {} as never, { startTime: 1, endTime: 2 }),
    ).rejects.toThrow(/is not a subclass of Strategy/);
    await expect(Runner.backtest([], { startTime: 1, endTime: 2 })).rejects.toThrow(/at least one strategy/);
    await expect(Runner.offline(trivial(), { onProgress: 5 as never })).rejects.toThrow(
      /onProgress must be a function, got 5/,
    );
    await expect(Runner.offline(trivial(), { trackReads: 'yes' as never })).rejects.toThrow(
      /trackReads must be true or false, got "yes"/,
    );
    await expect(Runner.backtest(trivial(), { startTime: new Date('x'), endTime: 1 })).rejects.toThrow(
      /startTime must be epoch seconds.*got Invalid Date/,
    );
    await expect(Runner.offline(trivial(), { outputLimit: 0 })).rejects.toThrow(
      /outputLimit must be a positive integer or Infinity, got 0/,
    );
    await expect(Runner.offline(trivial(), { gatewayUrl: 'http://127.0.0.1:1' })).rejects.toThrow(
      /an offline run uses no services/,
    );
    await expect(Runner.dryrun(trivial(), { gatewayUrl: 'ftp://x' })).rejects.toThrow(
      /gatewayUrl must be an http\(s\) URL, got "ftp:\/\/x"/,
    );
    await expect(
      Runner.backtest(trivial(), { startTime: 1, endTime: 2, gatewayUrl: 'http://127.0.0.1:1' }),
    ).rejects.toThrow(/gateway unreachable at "http:\/\/127.0.0.1:1"/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
