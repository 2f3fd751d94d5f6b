/**
 * Indicator nodes in a backtest over generated OHLCV histories with missing bars and several rows
 * in some buckets (late corrections): each node's outputs are the indicator fed the last row of
 * every bucket, in order, reported at every bucket it computes (not at a bucket after a missing
 * one, which `onMissing: 'skip'` skips, though the indicator still takes that bar in).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryProvider } from '../sdk/history/memory-history-provider.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { Runner } from '../sdk/runner/runner.js';
import { StreamInput } from '../sdk/stream-input.js';
import { Strategy } from '../sdk/strategy.js';
import { ATR } from './atr.js';
import { EMA } from './ema.js';
import type { StreamingIndicator } from './indicator.js';
import { ema, rsi } from './node-factories.js';
import { RSI } from './rsi.js';
import { atr } from './volatility-nodes.js';
import { vwap } from './volume-nodes.js';
import { VWAP } from './vwap.js';

const INTERVAL = 60;

interface Bar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

const bar: fc.Arbitrary<Bar> = fc
  .tuple(
    fc.double({ min: 50, max: 150, noNaN: true }),
    fc.double({ min: 0, max: 5, noNaN: true }),
    fc.double({ min: 0, max: 5, noNaN: true }),
    fc.double({ min: 0, max: 1e4, noNaN: true }),
  )
  .map(([close, up, down, volume]) => ({ open: close, high: close + up, low: close - down, close, volume }));

/** Per bucket: skipped (missing), or one to three rows, the last of which stands. */
const history = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.array(bar, { minLength: 1, maxLength: 3 }) },
  ),
  {
    minLength: 1,
    maxLength: 80,
  },
);

interface Case {
  readonly name: string;
  readonly node: (price: Node) => Node;
  readonly indicator: () => StreamingIndicator<never, unknown>;
  /** What the indicator is fed from a bucket's last row. */
  readonly input: (row: Bar, time: number) => unknown;
}

const CASES: Case[] = [
  {
    name: 'ema',
    node: (p) => ema(p, { period: 5, field: 'close' }),
    indicator: () => new EMA(5),
    input: (r) => r.close,
  },
  {
    name: 'rsi',
    node: (p) => rsi(p, { period: 4, field: 'close' }),
    indicator: () => new RSI(4),
    input: (r) => r.close,
  },
  {
    name: 'atr',
    node: (p) => atr(p, { period: 3 }),
    indicator: () => new ATR(3),
    input: (r, time) => ({ ...r, time }),
  },
  {
    name: 'vwap',
    node: (p) => vwap(p, { period: 4 }),
    indicator: () => new VWAP(4),
    input: (r, time) => ({ ...r, time }),
  },
];

describe('indicator nodes over generated histories', () => {
  it('report the indicator fed the last row of every bucket, at every bucket they compute', async () => {
    await fc.assert(
      fc.asyncProperty(history, async (buckets) => {
        const rows: HistoryRow[] = [];
        buckets.forEach((bucketRows, k) =>
          bucketRows?.forEach((row, n) => rows.push({ ts: 6_000 + k * INTERVAL + n, ...row })),
        );
        let nodes: Node[] = [];
        const strategy = new (class extends Strategy {
          setup(): void {
            const price = new StreamInput({
              tags: ['fuzz'],
              interval: INTERVAL,
              period: 1,
              historyProvider: new MemoryHistoryProvider(rows),
            });
            nodes = CASES.map((c) => c.node(price));
            this.addNodes([price, ...nodes]);
          }
        })({ defaultInterval: INTERVAL, defaultPeriod: 1 });
        const result = await Runner.backtest(strategy, {
          startTime: 6_000,
          endTime: 6_000 + buckets.length * INTERVAL,
          onMissing: 'skip',
        });
        CASES.forEach((c, i) => {
          const indicator = c.indicator();
          const expected: [number, unknown][] = [];
          buckets.forEach((bucketRows, k) => {
            if (bucketRows === null) return;
            const time = 6_000 + k * INTERVAL;
            const value = indicator.update(c.input(bucketRows.at(-1)!, time) as never);
            // The first bucket after a missing one is skipped (a gap), not the first bucket at all.
            const afterGap = k > 0 && buckets.slice(0, k).some((b) => b !== null) && buckets[k - 1] === null;
            if (value !== null && !afterGap) expected.push([time, value]);
          });
          expect(result.outputs(nodes[i]!).toArray(), c.name).toEqual(expected);
        });
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
