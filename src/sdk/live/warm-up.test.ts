import { describe, expect, it } from 'vitest';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { ReplayFeed } from './feeds/replay-feed.js';

const INTERVAL = 60;
const T0 = 1_700_000_000 - (1_700_000_000 % INTERVAL);
const provider = new MemoryHistoryProvider(
  Array.from({ length: 200 }, (_, i) => ({ ts: T0 + i * INTERVAL, close: 100 + i })),
);
/** First live bucket: 100 bars of history before it. */
const LIVE = T0 + 100 * INTERVAL;
const LIVE_BARS = 10;

/** A dry-run of a stream of `streamPeriod` read by a chain of nodes of `periods`, replayed by a ReplayFeed. */
async function dryrunChain(streamPeriod: number, periods: readonly number[]) {
  class Chain extends Strategy {
    override setup(): void {
      const price = new StreamInput({
        tags: ['BTC', 'warm-up-test'],
        interval: INTERVAL,
        period: streamPeriod,
        historyProvider: provider,
        liveFeed: new ReplayFeed({ provider }),
      });
      const nodes: Node[] = [price];
      for (const [index, period] of periods.entries())
        nodes.push(
          new ProcessingNode({
            input: nodes.at(-1)!,
            name: `n${index}`,
            interval: INTERVAL,
            period,
            computeFn: (view) => view.input<number>().latest(),
          }),
        );
      this.addNodes(nodes);
    }
  }
  const run = await Runner.dryrun(Chain, {
    startTime: LIVE,
    endTime: LIVE + (LIVE_BARS - 1) * INTERVAL,
    keepOutputs: 'all',
  });
  await run.done;
  const [price, ...chain] = run.strategy.nodes;
  const buckets = run
    .outputs(price!)
    .toArray()
    .map(([t]) => t);
  return { buckets, stats: chain.map((node) => run.stats(node)) };
}

describe('warm-up of a dry-run', () => {
  it("replays a stream's own period when its reader needs fewer bars, once each, then the feed's rows", async () => {
    const { buckets, stats } = await dryrunChain(20, [5]);
    // 20 warm-up rows (the stream's period is the window, not a delay added to the SMA's 5), then 10 live.
    expect(buckets).toEqual(Array.from({ length: 30 }, (_, i) => LIVE + (i - 20) * INTERVAL));
    expect(stats[0]).toMatchObject({ warmupBars: 4, computeCalls: 16 + LIVE_BARS });
  });

  it('replays the longest chain of periods when it exceeds the stream’s (stream → 20 → 10 needs 29)', async () => {
    const { buckets, stats } = await dryrunChain(5, [20, 10]);
    expect(buckets[0]).toBe(LIVE - 29 * INTERVAL);
    expect(buckets).toHaveLength(29 + LIVE_BARS);
    // The end of the chain is warm at the last warm-up bar: one output before the first live bar.
    expect(stats[1]).toMatchObject({ warmupBars: 9, outputs: 1 + LIVE_BARS });
  });
});
