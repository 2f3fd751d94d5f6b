/**
 * Replay over generated histories: one to three streams on 60, 120 or 300 s bars, several rows in
 * some buckets (late corrections), missing buckets, start and end times off the bar grid. However
 * the history is fetched (window sizes from one bar up), a backtest gives the same outputs and the
 * same node stats, and the same ones again when run twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { HistoryRow } from '../history/protocols.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';
import { Strategy } from '../strategy.js';
import { windowSpan } from './replay.js';
import { Runner } from './runner.js';

interface Stream {
  readonly interval: number;
  readonly rows: HistoryRow[];
}

/** A stream: per bar of a random walk along the grid, 0 to 3 rows at distinct offsets in the bucket. */
const stream: fc.Arbitrary<Stream> = fc
  .tuple(
    fc.constantFrom(60, 120, 300),
    fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: 3 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 3 }),
      ),
      {
        minLength: 1,
        maxLength: 40,
      },
    ),
  )
  .map(([interval, bars]) => {
    const rows: HistoryRow[] = [];
    let bucket = 600;
    bars.forEach(([skip, offsets], k) => {
      bucket += (1 + skip) * interval;
      offsets.forEach((offset, n) => rows.push({ ts: bucket + offset, value: k * 10 + n }));
    });
    return { interval, rows };
  });

/** What the recording node saw on each compute: the bucket and every input's newest value. */
function strategy(streams: readonly Stream[]): Strategy {
  return new (class extends Strategy {
    setup(): void {
      const inputs = streams.map(
        (s, k) =>
          new StreamInput({
            tags: [`s${k}`],
            interval: s.interval,
            period: 1,
            historyProvider: new MemoryHistoryProvider(s.rows),
          }),
      );
      const record = new ProcessingNode({
        input: inputs,
        interval: 60,
        period: 2,
        computeFn: (view) =>
          JSON.stringify([view.time, inputs.map((_, k) => view.input<{ value: number }>(k).latest()?.value)]),
      });
      this.addNodes([...inputs, record]);
    }
  })({ defaultInterval: 60, defaultPeriod: 1 });
}

async function backtest(streams: readonly Stream[], start: number, end: number, windowBars: number) {
  const result = await Runner.backtest(strategy(streams), {
    startTime: start,
    endTime: end,
    windowBars,
    onMissing: 'skip',
  });
  const leaf = result.strategy.nodes.at(-1)!;
  return { outputs: result.outputs(leaf).toArray(), stats: result.nodeStats };
}

describe('replay over generated histories', () => {
  it('sizes history windows to a multiple of every interval (found by the test below)', () => {
    // A 120 s bucket split between two 60 s windows was replayed as two ticks.
    expect(windowSpan([60], 7)).toBe(420);
    expect(windowSpan([60, 120], 1)).toBe(120);
    expect(windowSpan([60, 300, 120], 65_536)).toBe(3_932_400);
    expect(windowSpan([59, 61], 1)).toBe(3_599);
    expect(windowSpan([86_400, 86_399, 86_397, 86_393], 1)).toBe(Infinity);
  });

  it('gives the same outputs and stats for any history window and on every run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stream, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 12 }),
        async (streams, startOffset, length, windowBars) => {
          const start = 600 + startOffset;
          const end = start + length;
          const reference = await backtest(streams, start, end, 65_536);
          expect(await backtest(streams, start, end, 65_536)).toEqual(reference);
          expect(await backtest(streams, start, end, windowBars)).toEqual(reference);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
