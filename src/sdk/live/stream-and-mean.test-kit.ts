import type { HistoryProvider } from '../history/protocols.js';
import type { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';
import { ReplayFeed } from './feeds/replay-feed.js';

/** What {@link streamAndMean} builds from. */
export interface StreamAndMeanOptions {
  readonly tags: readonly string[];
  readonly provider: HistoryProvider;
  readonly interval: number;
  /** Delay between two live bars of the replay, in ms. */
  readonly paceMs: number;
}

/**
 * A price stream replayed from `provider` and its 5-bar mean of `close`: the shared part of the
 * strategies of live-run tests. Built with the same tags in two strategies, both nodes have the
 * same NodeIDs there, so one process computes them and the other consumes their topics.
 * @example const { price, mean } = streamAndMean({ tags: ['BTC', 'my-test'], provider, interval: 60, paceMs: 2 });
 */
export function streamAndMean(options: StreamAndMeanOptions): { price: StreamInput; mean: Node } {
  const price = new StreamInput({
    tags: [...options.tags],
    interval: options.interval,
    period: 5,
    historyProvider: options.provider,
    liveFeed: new ReplayFeed({ provider: options.provider, paceMs: options.paceMs }),
  });
  const mean = new ProcessingNode({
    input: price,
    name: 'mean5',
    interval: options.interval,
    period: 5,
    computeFn: (view) =>
      (view.input<{ close: number }>().field('close') as number[]).reduce((a, b) => a + b, 0) / 5,
  });
  return { price, mean };
}
