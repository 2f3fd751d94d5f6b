import { describe, expect, it, vi } from 'vitest';
import { logger } from '../../common/logger.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { ProcessingNode } from '../processing-node.js';
import { ExecutionGraph } from '../runner/execution-graph.js';
import { OnMissing, TickEngine } from '../runner/tick-engine.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { RECENT_LEAD_BUCKETS, recentOutputsOf, replayRecent } from './recent-outputs.js';

/** price → mean of 5 → times 3, all on one-minute buckets. */
class Chain extends Strategy {
  constructor() {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }
  override setup(): void {
    const price = new StreamInput({ tags: ['BTC'], historyProvider: new MemoryHistoryProvider([]) });
    const mean = new ProcessingNode({
      input: price,
      name: 'mean5',
      period: 5,
      computeFn: (view) =>
        [...(view.input<number>().values() as Iterable<number>)].reduce((a, b) => a + b, 0) / 5,
    });
    const times3 = new ProcessingNode({
      input: mean,
      name: 'times3',
      computeFn: (view) => (view.input().latest() as number) * 3,
    });
    this.addNodes([price, mean, times3]);
  }
}

describe('take-over warm-up from recent outputs', () => {
  it('computes every bucket after the last published one, however far the input ran ahead', () => {
    const strategy = new Chain().prepare();
    const graph = new ExecutionGraph([strategy], 'all');
    const [price, mean] = graph.order as [
      NonNullable<(typeof graph.order)[0]>,
      NonNullable<(typeof graph.order)[1]>,
    ];
    // This process consumed price and mean; mean's producer stopped after bucket 7, while the
    // price topic had already reached bucket 40 (its producer is faster).
    graph.detachInputs(mean);
    const recent = recentOutputsOf(graph, [price.id, mean.id]);
    expect(recent.get(price.id)!.capacity).toBe(5 + RECENT_LEAD_BUCKETS);
    for (let k = 0; k <= 40; k++) recent.get(price.id)!.push(k * 60, k);
    graph.attachInputs(mean);
    mean.emitAfter = 7 * 60;
    replayRecent(new TickEngine(graph.order, OnMissing.Skip), graph, [mean], recent);
    const emitted = mean.outputs!.toArray().map(([bucket]) => bucket / 60);
    expect(emitted).toEqual(Array.from({ length: 33 }, (_, i) => 8 + i));
    // bucket 8 is the mean of 4..8
    expect(mean.outputs!.at(0)![1]).toBe(6);
  });

  it('says so when the input ran further ahead than the outputs kept', () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const graph = new ExecutionGraph([new Chain().prepare()], 'all');
    const [price, mean] = [graph.order[0]!, graph.order[1]!];
    graph.detachInputs(mean);
    const recent = recentOutputsOf(graph, [price.id, mean.id]);
    for (let k = 0; k <= RECENT_LEAD_BUCKETS + 50; k++) recent.get(price.id)!.push(k * 60, k);
    graph.attachInputs(mean);
    mean.emitAfter = 7 * 60;
    replayRecent(new TickEngine(graph.order, OnMissing.Skip), graph, [mean], recent);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ node: 'mean5', input: price.id }),
      'take-over: the input ran further ahead than the outputs kept; the first buckets after the hand-over are missed',
    );
    warn.mockRestore();
  });
});
