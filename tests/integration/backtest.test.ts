import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GarchHistoryProvider, type GarchHistoryRow } from '../../src/generators/garch-history-provider.js';
import { ema, rsi } from '../../src/indicators/node-factories.js';
import { CsvHistoryProvider, writeCsv } from '../../src/io/csv-history-provider.js';
import { MemoryHistoryProvider } from '../../src/sdk/history/memory-history-provider.js';
import type { DataFetcher, HistoryProvider, HistoryRow, StreamKey } from '../../src/sdk/history/protocols.js';
import type { Node } from '../../src/sdk/node.js';
import { ProcessingNode } from '../../src/sdk/processing-node.js';
import type { RunResult } from '../../src/sdk/runner/run-result.js';
import { Runner } from '../../src/sdk/runner/runner.js';
import { StreamInput } from '../../src/sdk/stream-input.js';
import { Strategy } from '../../src/sdk/strategy.js';

const INTERVAL = 60;
/** Bar 0 of every generated market: a multiple of both 60 and 300. */
const START = 1_700_000_100;
const KEY: StreamKey = { nodeId: 'test', interval: INTERVAL };
const tsOf = (bar: number): number => START + bar * INTERVAL;

const garch = (bars: number, seed = 7, interval = INTERVAL): GarchHistoryProvider =>
  new GarchHistoryProvider({ seed, start: START, bars, interval });
const garchRows = (bars: number, seed = 7): Promise<readonly GarchHistoryRow[]> =>
  garch(bars, seed).fetch(START, tsOf(bars), KEY);

/** A strategy built from a function, so each test states its DAG inline. */
function strategyOf(build: (s: Strategy) => void, name: string): Strategy {
  const strategy = new (class extends Strategy {
    setup(): void {
      build(this);
    }
  })({ defaultInterval: INTERVAL, defaultPeriod: 1 });
  Object.defineProperty(strategy.constructor, 'name', { value: name });
  return strategy;
}

/** The nodes of one trend strategy, so tests can look their outputs up. */
interface TrendNodes {
  price: StreamInput;
  trend: Node;
  strength: Node;
  signal: Node;
}

/**
 * BTC 1-minute bars → EMA(20) and RSI(14) of the close → a signal weighting the two. Every
 * instance shares the stream and both indicators; `weight` makes the signal its own.
 */
function trendStrategy(
  name: string,
  weight: number,
  provider: HistoryProvider,
): { strategy: Strategy; nodes: TrendNodes } {
  const nodes = {} as TrendNodes;
  const strategy = strategyOf((s) => {
    nodes.price = new StreamInput({
      tags: ['BTC', 'ohlcv'],
      interval: INTERVAL,
      period: 1,
      historyProvider: provider,
    });
    nodes.trend = ema(nodes.price, { period: 20, field: 'close' });
    nodes.strength = rsi(nodes.price, { field: 'close' });
    nodes.signal = new ProcessingNode({
      name: `${name}_signal`,
      input: [nodes.price, nodes.trend, nodes.strength],
      params: { weight },
      computeFn: (view) => {
        const close = view.input<HistoryRow>(0).latest()!['close'] as number;
        const trend = view.input(1).latest()!;
        return view.params['weight'] * (close / trend - 1) + (view.input(2).latest()! - 50) / 50;
      },
    });
    s.addNodes([nodes.price, nodes.trend, nodes.strength, nodes.signal]);
  }, name);
  return { strategy, nodes };
}

/** Every kept output series of a run, keyed by node name, as one JSON text. */
function dumpOutputs(result: RunResult): string {
  return JSON.stringify(
    result.nodeStats.map((stats) => [stats.name, result.outputs(stats.nodeId).toArray()]),
  );
}

describe('backtest of several strategies sharing nodes', () => {
  const BARS = 2_000;
  const WEIGHTS = { A: 1, B: 5, C: 25 } as const;
  const names = Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[];
  const range = { startTime: START, endTime: tsOf(BARS - 1) };
  let shared: RunResult;
  let sharedNodes: Record<string, TrendNodes>;

  beforeAll(async () => {
    const built = names.map((name) => trendStrategy(name, WEIGHTS[name], garch(BARS)));
    sharedNodes = Object.fromEntries(built.map(({ nodes }, i) => [names[i]!, nodes]));
    shared = await Runner.run(
      built.map(({ strategy }) => strategy),
      range,
    );
  });

  it('computes the stream and both indicators once and reports what sharing saved', () => {
    const { A, B, C } = sharedNodes as Record<keyof typeof WEIGHTS, TrendNodes>;
    expect(A.trend.nodeId).toBe(C.trend.nodeId);
    expect(A.signal.nodeId).not.toBe(B.signal.nodeId);
    // EMA(20) computes from bar 20 (1,981 calls), RSI(14) from bar 15 (1,986), each signal once
    // both indicators have emitted (1,981 each); the stream is replayed, not computed.
    expect(shared.dedup).toEqual({
      strategies: 3,
      nodesInDags: 12,
      nodesComputed: 6,
      computeCalls: 1_981 + 1_986 + 3 * 1_981,
      computeCallsSaved: 2 * 1_981 + 2 * 1_986,
    });
    expect(shared.stats(A.trend)).toMatchObject({ computeCalls: 1_981, strategies: 3, gaps: 0, skips: 0 });
    expect(shared.stats(A.strength)).toMatchObject({ computeCalls: 1_986, strategies: 3 });
    expect(shared.bars).toBe(BARS);
  });

  it.each(names)(
    'gives strategy %s the same outputs and indicator work as when it runs alone',
    async (name) => {
      const alone = trendStrategy(name, WEIGHTS[name], garch(BARS));
      const result = await Runner.backtest(alone.strategy, range);
      const nodes = sharedNodes[name]!;
      expect(result.stats(alone.nodes.trend).computeCalls).toBe(shared.stats(nodes.trend).computeCalls);
      expect(result.stats(alone.nodes.strength).computeCalls).toBe(shared.stats(nodes.strength).computeCalls);
      const outputs = result.outputs<number>(alone.nodes.signal).toArray();
      expect(outputs).toHaveLength(1_981);
      expect(shared.outputs<number>(nodes.signal).toArray()).toEqual(outputs);
    },
  );
});

describe('backtest determinism', () => {
  const BARS = 5_000;
  const run = (options: { windowBars?: number } = {}): Promise<RunResult> =>
    Runner.run([trendStrategy('A', 1, garch(BARS)).strategy, trendStrategy('B', 3, garch(BARS)).strategy], {
      startTime: START,
      endTime: tsOf(BARS - 1),
      keepOutputs: 'all',
      ...options,
    });

  it('gives byte-identical outputs on every run and for 1,000-bar or default history windows', async () => {
    const reference = await run();
    const text = dumpOutputs(reference);
    expect(reference.nodeStats).toHaveLength(5);
    expect(reference.outputs(reference.strategy.nodes[0]!).length).toBe(BARS);
    expect(dumpOutputs(await run())).toBe(text);
    const windowed = await run({ windowBars: 1_000 });
    expect(dumpOutputs(windowed)).toBe(text);
    expect(windowed.bars).toBe(BARS);
  });
});

describe('backtest over files and fetchers', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qmtl-backtest-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the same outputs over a CSV file as over memory holding the same rows', async () => {
    const rows = await garchRows(300, 11);
    const path = join(dir, 'btc-1m.csv');
    await writeCsv(path, rows);
    const range = { startTime: START, endTime: tsOf(299), keepOutputs: 'all' } as const;
    const fromCsv = trendStrategy('Csv', 2, new CsvHistoryProvider(path));
    const fromMemory = trendStrategy('Memory', 2, new MemoryHistoryProvider(rows));
    const csvResult = await Runner.backtest(fromCsv.strategy, range);
    const memoryResult = await Runner.backtest(fromMemory.strategy, range);
    expect(csvResult.bars).toBe(300);
    for (const role of ['price', 'trend', 'strength', 'signal'] as const) {
      expect(csvResult.outputs(fromCsv.nodes[role]).toArray()).toEqual(
        memoryResult.outputs(fromMemory.nodes[role]).toArray(),
      );
    }
    expect(csvResult.outputs(fromCsv.nodes.signal).length).toBe(281);
  });

  it('replays the whole CSV file offline when no times are given', async () => {
    const rows = await garchRows(250, 12);
    const path = join(dir, 'offline.csv');
    await writeCsv(path, rows);
    const offline = trendStrategy('Offline', 2, new CsvHistoryProvider(path));
    const result = await Runner.offline(offline.strategy, { keepOutputs: 'all' });
    expect([result.startTime, result.endTime, result.bars, result.ticks]).toEqual([
      START,
      tsOf(249),
      250,
      250,
    ]);
    expect(result.outputs(offline.nodes.price).timestamps()).toEqual(
      Float64Array.from(rows, (row) => row.ts),
    );
    const memory = trendStrategy('Memory', 2, new MemoryHistoryProvider(rows));
    const reference = await Runner.backtest(memory.strategy, { startTime: START, endTime: tsOf(249) });
    expect(result.outputs(offline.nodes.signal).toArray()).toEqual(
      reference.outputs(memory.nodes.signal).toArray(),
    );
  });

  it('fills missing history from a DataFetcher and replays it without gaps', async () => {
    const all = await garchRows(300, 13);
    const source = garch(300, 13);
    const requests: Array<[number, number]> = [];
    const fetcher: DataFetcher = {
      fetch: (start, end, key) => {
        requests.push([start, end]);
        return source.fetch(start, end, key);
      },
    };
    // The provider holds bars 100–199 except 150–159; the backtest asks for bars 0–299.
    const held = all.filter((_, bar) => bar >= 100 && bar < 200 && (bar < 150 || bar >= 160));
    const provider = new MemoryHistoryProvider(held, { fetcher });
    const filled = trendStrategy('Filled', 2, provider);
    const result = await Runner.backtest(filled.strategy, {
      startTime: START,
      endTime: tsOf(299),
      keepOutputs: 'all',
    });
    // fillMissing(start, end) asks the fetcher for the half-open [start, end + 1).
    expect(requests).toEqual([
      [tsOf(0), tsOf(99) + 1],
      [tsOf(150), tsOf(159) + 1],
      [tsOf(200), tsOf(299) + 1],
    ]);
    expect(provider.count()).toBe(300);
    expect(await provider.coverage(KEY)).toEqual([[tsOf(0), tsOf(299)]]);
    expect(result.historyGaps).toEqual([]);
    expect(result.bars).toBe(300);
    for (const stats of result.nodeStats) expect(stats).toMatchObject({ gaps: 0, skips: 0 });
    const complete = trendStrategy('Complete', 2, new MemoryHistoryProvider(all));
    const reference = await Runner.backtest(complete.strategy, { startTime: START, endTime: tsOf(299) });
    expect(result.outputs(filled.nodes.signal).toArray()).toEqual(
      reference.outputs(complete.nodes.signal).toArray(),
    );
  });
});

describe('backtest over several intervals', () => {
  it('computes a node fed by 60 s and 300 s streams once per tick, in timestamp order', async () => {
    const minutes = 60;
    const seen: Array<[time: number, slowBucket: number]> = [];
    let join!: Node;
    const result = await Runner.backtest(
      strategyOf((s) => {
        const fast = new StreamInput({
          tags: ['BTC'],
          interval: 60,
          period: 1,
          historyProvider: garch(minutes, 21, 60),
        });
        const slow = new StreamInput({
          tags: ['ETH'],
          interval: 300,
          period: 1,
          historyProvider: garch(minutes / 5, 22, 300),
        });
        join = new ProcessingNode({
          name: 'ratio',
          input: [fast, slow],
          interval: 60,
          computeFn: (view) => {
            seen.push([view.time, view.input(1).latestTime()!]);
            return (
              (view.input<HistoryRow>(0).latest()!['close'] as number) /
              (view.input<HistoryRow>(1).latest()!['close'] as number)
            );
          },
        });
        s.addNodes([fast, slow, join]);
      }, 'Ratio'),
      { startTime: START, endTime: tsOf(minutes - 1) },
    );
    const expected = Array.from({ length: minutes }, (_, m): [number, number] => [
      tsOf(m),
      tsOf(m) - ((m * 60) % 300),
    ]);
    // One compute per minute, ascending; on every fifth minute it already sees the new 300 s bar.
    expect(seen).toEqual(expected);
    expect(result.stats(join)).toMatchObject({ computeCalls: minutes, gaps: 0, skips: 0 });
    expect([result.ticks, result.bars]).toEqual([minutes, minutes + minutes / 5]);
    expect(result.outputs(join).timestamps()).toEqual(Float64Array.from(expected, ([time]) => time));
  });
});
