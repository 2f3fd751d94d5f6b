/**
 * A live feed with a late row for an older bucket and a correction of the newest one, and a
 * strategy over it: for the tests of what a live run records (unit, and against real QuestDB).
 */
import type { HistoryProvider, HistoryRow, EventRecorder } from '../history/protocols.js';
import { ProcessingNode } from '../processing-node.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import type { LiveFeed } from './live-feed.js';

export const INTERVAL = 60;
/** Buckets 1, 2 and 3 of the feed. */
export const [B1, B2, B3] = [0, 1, 2].map((k) => 1_700_000_040 + k * INTERVAL) as [number, number, number];

/** Bars for buckets 1, 2, 3, then a late row for bucket 1 (older than the newest) and a correction of bucket 3. */
export const LATE_ROWS: readonly HistoryRow[] = [
  { ts: B1, close: 1 },
  { ts: B2, close: 2 },
  { ts: B3, close: 3 },
  { ts: B1 + 5, close: 100 },
  { ts: B3 + 10, close: 30 },
];

/** What the live run computes from {@link LATE_ROWS}: the sum of the last two closes it took. */
export const LIVE_SUMS: readonly [number, number][] = [
  [B2, 1 + 2],
  [B3, 2 + 30],
];

/** A feed delivering `rows` in the order given, then done. */
export function listFeed(rows: readonly HistoryRow[]): LiveFeed {
  return {
    start: ({ onRow }) => {
      const done = (async () => {
        for (const row of rows) await onRow(row);
      })();
      return Promise.resolve({ done, stop: () => done });
    },
  };
}

/** Where the stream of {@link summingStrategy} reads from and writes to. */
export interface SummingSource {
  readonly liveFeed?: LiveFeed;
  readonly eventRecorder?: EventRecorder;
  readonly historyProvider?: HistoryProvider;
}

/** One stream and `sum2`, the sum of its last two closes; `sum()` is that node once set up. */
export function summingStrategy(source: SummingSource): {
  Summing: new () => Strategy;
  sum: () => ProcessingNode;
} {
  let sum: ProcessingNode | undefined;
  class Summing extends Strategy {
    override setup(): void {
      const price = new StreamInput({ tags: ['BTC', 'late-rows'], interval: INTERVAL, period: 2, ...source });
      sum = new ProcessingNode({
        input: price,
        name: 'sum2',
        interval: INTERVAL,
        period: 2,
        computeFn: (view) =>
          (view.input<{ close: number }>().field('close') as number[]).reduce((a, b) => a + b, 0),
      });
      this.addNodes([price, sum]);
    }
  }
  return {
    Summing,
    sum: () => {
      if (sum === undefined) throw new Error('summingStrategy: the strategy is not set up yet');
      return sum;
    },
  };
}
