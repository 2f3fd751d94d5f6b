/**
 * A state machine: the trend of the close (up or down against its EMA, with a dead band), and the
 * bars where it changed. Run it with `npm run backtest`.
 */
import { ProcessingNode, Strategy, StreamInput } from 'qmtl';
import { priceHistory } from './history.js';
import { trendState } from './indicators/index.js';

export class StateMachineStrategy extends Strategy {
  constructor() {
    // Nodes that set no interval or period get these: one-minute bars, the newest bar only.
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({
      name: 'price',
      tags: ['SAMPLE', 'ohlcv'],
      historyProvider: priceHistory(),
    });
    // The state: 1 (up) or -1 (down). It lives in the node, one TrendState per run, and period
    // and band are part of the node's identity.
    const trend = trendState(price, { period: 20, band: 0.001, field: 'close', name: 'trend' });
    // The changes: compares the last two states the node cache holds (period 2), so it needs no
    // state of its own; emits 'up' or 'down' on the bars where the trend turned, nothing otherwise.
    const changes = new ProcessingNode({
      name: 'trend_changes',
      input: trend,
      period: 2,
      computeFn: (view) => {
        const states = view.input();
        const [before, now] = [states.at(-2), states.at(-1)];
        if (now === before) return null;
        return now === 1 ? 'up' : 'down';
      },
    });
    this.addNodes([price, trend, changes]);
  }
}
