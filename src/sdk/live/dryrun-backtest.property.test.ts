/**
 * The live path against the backtest path over generated histories: a dry-run fed by a ReplayFeed
 * (warmed up from history before its start) gives, from its start on, the same outputs as a
 * backtest over the whole history, for window nodes on one stream, with late corrections (several
 * rows in a bucket) and start times off the bar grid. (With two streams live feeds are not
 * synchronised, so a live run may differ: docs/live.md.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheView } from '../cache/cache-view.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { HistoryRow } from '../history/protocols.js';
import type { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { ReplayFeed } from './feeds/replay-feed.js';

const INTERVAL = 60;
const FIRST = 6_000;

/** One stream: every bucket has one to three rows (the last stands), values from a small range. */
const stream = fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 3 }), {
  minLength: 30,
  maxLength: 60,
});

const rowsOf = (buckets: number[][]): HistoryRow[] =>
  buckets.flatMap((values, k) => values.map((value, n) => ({ ts: FIRST + k * INTERVAL + n * 5, value })));

function strategy(rows: HistoryRow[][], periods: number[]): new () => Strategy {
  return class extends Strategy {
    constructor() {
      super({ defaultInterval: INTERVAL, defaultPeriod: 1 });
    }

    override setup(): void {
      const inputs = rows.map((of, s) => {
        const provider = new MemoryHistoryProvider(of);
        return new StreamInput({
          tags: [`s${s}`],
          interval: INTERVAL,
          period: 1,
          historyProvider: provider,
          liveFeed: new ReplayFeed({ provider }),
        });
      });
      const sumOf = (view: CacheView, k: number): number =>
        (view.input<{ value: number } | number>(k).values() as ({ value: number } | number)[])
          .map((v) => (typeof v === 'number' ? v : v.value))
          .reduce((a, b) => a + b, 0);
      const windows: Node[] = inputs.map(
        (input, s) =>
          new ProcessingNode({
            name: `window${s}`,
            input,
            period: periods[s]!,
            computeFn: (view) => sumOf(view, 0),
          }),
      );
      const leaf = new ProcessingNode({
        name: 'leaf',
        input: windows,
        period: periods.at(-1)!,
        computeFn: (view) => windows.reduce((sum, _, k) => sum + sumOf(view, k) * (k + 1), 0),
      });
      // A coarser node: its 3-minute bucket is recomputed as each minute of it arrives.
      const coarse = new ProcessingNode({
        name: 'coarse',
        input: windows[0]!,
        interval: 3 * INTERVAL,
        period: 1,
        computeFn: (view) => sumOf(view, 0) * 1000 + view.time,
      });
      this.addNodes([...inputs, ...windows, leaf, coarse]);
    }
  };
}

describe('dry-run against backtest over generated histories', () => {
  it('gives the same outputs from the live start on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stream, { minLength: 1, maxLength: 1 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 12, max: 25 }),
        fc.integer({ min: 0, max: 59 }),
        async (streams, periods, liveBar, offGrid) => {
          const rows = streams.map(rowsOf);
          const bars = Math.min(...streams.map((s) => s.length));
          const end = FIRST + (bars - 1) * INTERVAL;
          const live = FIRST + liveBar * INTERVAL + offGrid;
          const Built = strategy(rows, periods);
          const backtest = await Runner.backtest(Built, {
            startTime: FIRST,
            endTime: end,
            keepOutputs: 'all',
          });
          const dryrun = await Runner.dryrun(Built, { startTime: live, endTime: end, keepOutputs: 'all' });
          await dryrun.done;
          const named = (nodes: readonly Node[], name: string): Node => nodes.find((n) => n.name === name)!;
          const from = (series: [number, unknown][]): [number, unknown][] =>
            series.filter(([t]) => t >= live);
          for (const name of ['leaf', 'coarse'])
            expect(from(dryrun.outputs(named(dryrun.strategy.nodes, name)).toArray()), name).toEqual(
              from(backtest.outputs(named(backtest.strategy.nodes, name)).toArray()),
            );
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
