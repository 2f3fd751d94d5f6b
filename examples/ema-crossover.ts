/**
 * An EMA crossover on seeded synthetic bars. Run it with
 *   npx qmtl run examples/ema-crossover.ts --mode backtest --start-time 2024-01-01T00:00:00Z --end-time 2024-01-08T00:00:00Z
 */
import { GarchHistoryProvider } from 'qmtl/generators';
import { ProcessingNode, Strategy, StreamInput, ema } from 'qmtl';

const provider = new GarchHistoryProvider({
  seed: 1,
  start: Date.UTC(2024, 0, 1) / 1000,
  bars: 20_000,
  interval: 60,
  omega: 3e-9,
});

export class EmaCrossover extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({ tags: ['BTC', 'ohlcv'], historyProvider: provider });
    const fast = ema(price, { period: 10, field: 'close' });
    const slow = ema(price, { period: 30, field: 'close' });
    const signal = new ProcessingNode({
      name: 'crossover',
      input: [fast, slow],
      params: { band: 0.0001 },
      computeFn: (view) => {
        const spread = view.input(0).latest()! / view.input(1).latest()! - 1;
        return spread > view.params.band ? 1 : spread < -view.params.band ? -1 : 0;
      },
    });
    this.addNodes([price, fast, slow, signal]);
  }
}
