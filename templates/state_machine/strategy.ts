/**
 * A state machine: the trend of the close (up or down against its EMA, with a dead band), and the
 * bars where it changed. Run it with `npm run backtest`.
 */
import { ProcessingNode, Strategy, StreamInput } from 'qmtl';
import { priceHistory } from './history.js';
import { trendState, type TrendReport } from './indicators/index.js';

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
    // The state lives in the node (one TrendState per run); period and band are in its NodeID.
    const trend = trendState(price, { period: 20, band: 0.001, field: 'close', name: 'trend' });
    // Stateless: emits the new state on the bars where it changed, nothing on the others.
    const changes = new ProcessingNode({
      name: 'trend_changes',
      input: trend,
      computeFn: (view) => {
        const report = view.input<TrendReport>().latest()!;
        return report.changed ? report.trend : null;
      },
    });
    this.addNodes([price, trend, changes]);
  }
}
