import { describe, expect, it } from 'vitest';
import type { CacheView } from '../sdk/cache/cache-view.js';
import { MemoryHistoryProvider } from '../sdk/history/memory-history-provider.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import type { NodeStats } from '../sdk/runner/node-stats.js';
import { Runner } from '../sdk/runner/runner.js';
import { StreamInput } from '../sdk/stream-input.js';
import { Strategy } from '../sdk/strategy.js';
import {
  formatNodeTable,
  formatProgress,
  formatRunSummary,
  formatValue,
  runSummaryJson,
  summarizeRun,
  type RunSummary,
} from './format-run-summary.js';

const T0 = Date.UTC(2024, 0, 1) / 1000;

function stats(name: string, nodeType: string, nodeId: string, counters: Partial<NodeStats> = {}): NodeStats {
  return {
    nodeId,
    name,
    nodeType,
    computeCalls: 0,
    skips: 0,
    gaps: 0,
    warmupBars: 0,
    corrections: 0,
    rejected: 0,
    outputs: 0,
    emptyOutputs: 0,
    strategies: 1,
    ...counters,
  };
}

const summary: RunSummary = {
  strategies: ['Crossover'],
  mode: 'backtest',
  startTime: T0,
  endTime: T0 + 1439 * 60,
  bars: 1440,
  ticks: 1440,
  barsPerSecond: 1_234_567.8,
  timing: { historyMs: 2, replayMs: 1.25, totalMs: 31.6 },
  nodeStats: [
    stats('price', 'StreamInput', 'a'.repeat(64), { outputs: 1440 }),
    stats('ema_fast', 'EMA', 'b'.repeat(64), { computeCalls: 1431, outputs: 1431, warmupBars: 9 }),
    stats('signal', 'ProcessingNode', 'c'.repeat(64), {
      computeCalls: 1430,
      outputs: 1430,
      warmupBars: 10,
      skips: 2,
      gaps: 1,
    }),
  ],
  dedup: { strategies: 1, nodesInDags: 3, nodesComputed: 3, computeCalls: 2861, computeCallsSaved: 0 },
  historyGaps: [],
  outputs: [
    {
      nodeId: 'c'.repeat(64),
      name: 'signal',
      nodeType: 'ProcessingNode',
      length: 1430,
      last: [T0 + 1439 * 60, -1],
    },
  ],
};

describe('formatRunSummary', () => {
  it('prints the run, a table of node counters and the newest value of each leaf', () => {
    expect(formatRunSummary(summary)).toBe(
      [
        'Strategy: Crossover',
        'Mode:     backtest',
        'Range:    2024-01-01T00:00:00Z .. 2024-01-01T23:59:00Z',
        'Bars:     1,440 (1,440 ticks, 1,234,568 bars/s; replay 1.3 ms, total 32 ms)',
        '',
        'node      type            id        computes  emitted  warm-up  skips  gaps',
        'price     StreamInput     aaaaaaaa         0     1440        0      0     0',
        'ema_fast  EMA             bbbbbbbb      1431     1431        9      0     0',
        'signal    ProcessingNode  cccccccc      1430     1430       10      2     1',
        '',
        'Outputs:',
        '  signal  cccccccc  1,430 values, last -1 at 2024-01-01T23:59:00Z',
        '',
      ].join('\n'),
    );
  });

  it('reports sharing, history gaps, empty leaves and an empty range', () => {
    const text = formatRunSummary({
      ...summary,
      strategies: ['A', 'B'],
      startTime: null,
      endTime: null,
      dedup: { strategies: 2, nodesInDags: 6, nodesComputed: 3, computeCalls: 10, computeCallsSaved: 10 },
      historyGaps: [{ nodeId: 'a'.repeat(64), name: 'price', ranges: [[T0, T0 + 60]] }],
      outputs: [{ ...summary.outputs[0]!, length: 0, last: null }],
    });
    expect(text).toContain('Strategy: A, B\n');
    expect(text).toContain('Range:    nothing to replay\n');
    expect(text).toContain('Sharing:  6 nodes in 2 DAG(s), 3 computed; 10 compute calls saved\n');
    expect(text).toContain('History gap: price (aaaaaaaa) 2024-01-01T00:00:00Z .. 2024-01-01T00:01:00Z\n');
    expect(text).toContain('  signal  cccccccc  0 values, no values\n');
  });

  it('gives a dry-run or live run stopped before any end time its start and no end', () => {
    for (const mode of ['dryrun', 'live']) {
      const text = formatRunSummary({ ...summary, mode, endTime: null });
      expect(text).toContain('Range:    2024-01-01T00:00:00Z .. (no end time)\n');
    }
  });

  it('says how many outputs a distributed run published, consumed and could not publish', () => {
    const distributed: RunSummary = {
      ...summary,
      mode: 'dryrun',
      topics: { produced: { a: 't1', b: 't2' }, consumed: { c: 't3' } },
      published: 1_200,
      received: 40,
      unpublished: 0,
    };
    expect(formatRunSummary(distributed)).toContain(
      'Topics:   2 node(s) published (1,200 messages), 1 consumed (40 messages)\n',
    );
    expect(formatRunSummary({ ...distributed, unpublished: 24 })).toContain(
      'Topics:   2 node(s) published (1,200 messages; 24 not published, the topic bus did not take them), 1 consumed (40 messages)\n',
    );
    expect(JSON.parse(runSummaryJson({ ...distributed, unpublished: 24 }))).toMatchObject({
      unpublished: 24,
    });
  });

  it('omits the sharing line when nothing was shared', () => {
    expect(formatRunSummary(summary)).not.toContain('Sharing');
  });
});

describe('formatNodeTable', () => {
  it('pads text columns to the widest cell and right-aligns counters', () => {
    const [header, row] = formatNodeTable([
      stats('a_rather_long_node_name', 'X', '0123456789abcdef', { computeCalls: 123_456 }),
    ]);
    expect(header).toBe('node                     type  id        computes  emitted  warm-up  skips  gaps');
    expect(row).toBe('a_rather_long_node_name  X     01234567    123456        0        0      0     0');
  });
});

describe('formatValue', () => {
  it('shows numbers to 8 significant digits and quotes everything else', () => {
    expect(formatValue(3)).toBe('3');
    expect(formatValue(1 / 3)).toBe('0.33333333');
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatValue('buy')).toBe('"buy"');
    expect(formatValue({ close: 101.5 })).toBe('{"close":101.5}');
    expect(formatValue(null)).toBe('null');
  });
});

describe('runSummaryJson', () => {
  it('is one JSON object with ISO-8601 times', () => {
    const report = JSON.parse(runSummaryJson(summary)) as Record<string, unknown>;
    expect(report).toMatchObject({
      strategies: ['Crossover'],
      mode: 'backtest',
      start: '2024-01-01T00:00:00Z',
      end: '2024-01-01T23:59:00Z',
      bars: 1440,
      ticks: 1440,
      barsPerSecond: 1_234_567.8,
      dedup: summary.dedup,
      historyGaps: [],
      outputs: [{ name: 'signal', length: 1430, last: { time: '2024-01-01T23:59:00Z', value: -1 } }],
    });
    expect(report['nodeStats']).toEqual(summary.nodeStats);
  });

  it('writes gap ranges as ISO-8601 and bigints as strings', () => {
    const text = runSummaryJson({
      ...summary,
      startTime: null,
      endTime: null,
      historyGaps: [{ nodeId: 'a'.repeat(64), name: 'price', ranges: [[T0, T0 + 60]] }],
      outputs: [{ ...summary.outputs[0]!, last: [T0, 2n ** 70n] }],
    });
    const report = JSON.parse(text) as {
      start: null;
      historyGaps: Array<{ ranges: unknown }>;
      outputs: Array<{ last: { value: unknown } }>;
    };
    expect(report.start).toBeNull();
    expect(report.historyGaps[0]!.ranges).toEqual([
      { start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:01:00Z' },
    ]);
    expect(report.outputs[0]!.last.value).toBe('1180591620717411303424');
  });
});

describe('formatProgress', () => {
  it('shows the percentage, the bars replayed and the last bucket', () => {
    expect(formatProgress({ bars: 65_536, time: T0 + 60, fraction: 0.456 })).toBe(
      'replaying:  46%  65,536 bars  up to 2024-01-01T00:01:00Z',
    );
  });
});

describe('summarizeRun', () => {
  it('collects the leaves of every strategy once, with their length and newest value', async () => {
    const provider = new MemoryHistoryProvider(
      Array.from({ length: 5 }, (_, i) => ({ ts: T0 + i * 60, close: 10 + i })),
    );
    // Different compute functions, so the two leaves get different NodeIDs; the stream is shared.
    const build = (name: string, computeFn: (view: CacheView) => number) => {
      const strategy = new (class extends Strategy {
        setup(): void {
          const price = new StreamInput({ tags: ['x'], interval: 60, period: 1, historyProvider: provider });
          this.addNodes([
            price,
            new ProcessingNode({
              name: name.toLowerCase(),
              input: price,
              interval: 60,
              period: 1,
              computeFn,
            }),
          ]);
        }
      })();
      Object.defineProperty(strategy.constructor, 'name', { value: name });
      return strategy;
    };
    const close = (view: CacheView) => view.input<{ close: number }>().latest()!.close;
    const double = build('Double', (view) => close(view) * 2);
    const triple = build('Triple', (view) => close(view) * 3);
    const result = await Runner.backtest([double, triple], { startTime: T0, endTime: T0 + 240 });
    const collected = summarizeRun(result);
    expect(collected).toMatchObject({
      strategies: ['Double', 'Triple'],
      mode: 'backtest',
      startTime: T0,
      endTime: T0 + 240,
      bars: 5,
      ticks: 5,
    });
    expect(collected.nodeStats.map((s) => s.name)).toEqual(['stream_input', 'double', 'triple']);
    expect(collected.outputs.map((o) => [o.name, o.length, o.last])).toEqual([
      ['double', 5, [T0 + 240, 28]],
      ['triple', 5, [T0 + 240, 42]],
    ]);
    expect(collected.dedup).toMatchObject({ strategies: 2, nodesInDags: 4, nodesComputed: 3 });
  });
});
