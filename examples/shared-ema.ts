/**
 * Two strategies that share a price stream and its EMA(20), for dry-runs across processes. On the
 * embedded defaults (everything in this process, paper broker):
 *   npx qmtl run examples/shared-ema.ts:Trend --mode dryrun --start-time 2024-01-02T00:00:00Z --end-time 2024-01-02T06:00:00Z
 * Distributed (docs/live.md): `npx qmtl up` in one terminal, then in two others
 *   npx qmtl run examples/shared-ema.ts:Trend --mode dryrun --start-time 2024-01-02T00:00:00Z --gateway-url http://127.0.0.1:8000 --bus-dsn redis://127.0.0.1:6379
 *   npx qmtl run examples/shared-ema.ts:Band --mode dryrun --start-time 2024-01-02T00:00:00Z --gateway-url http://127.0.0.1:8000 --bus-dsn redis://127.0.0.1:6379
 * The first computes the stream and the EMA and publishes them; the second consumes the EMA.
 */
import { GarchHistoryProvider } from 'qmtl/generators';
import { ProcessingNode, ReplayFeed, Strategy, StreamInput, ema, signalOrders, type Node } from 'qmtl';

const provider = new GarchHistoryProvider({
  seed: 3,
  start: Date.UTC(2024, 0, 1) / 1000,
  bars: 50_000,
  interval: 60,
  omega: 3e-9,
});

/** The shared part: identical NodeIDs in both strategies, so it is computed once. */
function priceAndAverage(): { price: StreamInput; average: Node } {
  const price = new StreamInput({
    tags: ['BTC', 'ohlcv'],
    interval: '1m',
    period: 1,
    historyProvider: provider,
    // Replays the generator from the first live bucket, one bar every 50 ms.
    liveFeed: new ReplayFeed({ provider, paceMs: 50 }),
  });
  return { price, average: ema(price, { period: 20, field: 'close' }) };
}

/** Long above the EMA, short below; trades one unit through the paper broker. */
export class Trend extends Strategy {
  setup(): void {
    const { price, average } = priceAndAverage();
    const side = new ProcessingNode({
      name: 'trend',
      input: [price, average],
      interval: '1m',
      period: 1,
      computeFn: (view) =>
        view.input<{ close: number }>(0).latest()!.close > view.input(1).latest()! ? 1 : -1,
    });
    this.addNodes([price, average, side, signalOrders(side, { symbol: 'BTC', quantity: 1 })]);
  }
}

/** How far the close is from the EMA, in basis points. */
export class Band extends Strategy {
  setup(): void {
    const { price, average } = priceAndAverage();
    const distance = new ProcessingNode({
      name: 'distance_bps',
      input: [price, average],
      interval: '1m',
      period: 1,
      computeFn: (view) =>
        (view.input<{ close: number }>(0).latest()!.close / view.input(1).latest()! - 1) * 1e4,
    });
    this.addNodes([price, average, distance]);
  }
}
