/**
 * One stream feeding two branches, momentum and volatility, joined again into a risk-adjusted
 * momentum score. The stream is read once and each branch computed once, however many nodes
 * consume them. Run it with `npm run backtest`.
 */
import { ProcessingNode, Strategy, StreamInput } from 'qmtl';
import { priceHistory } from './history.js';
import { roughVolatility } from './indicators/index.js';
import { rateOfChange } from './transforms/index.js';

export class BranchingStrategy extends Strategy {
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
    // Branch 1: the change of the close over 10 bars, as a fraction.
    const momentum = rateOfChange(price, { period: 10, field: 'close', name: 'momentum' });
    // Branch 2: the standard deviation of the last 20 one-bar log returns.
    const volatility = roughVolatility(price, { period: 20, field: 'close', name: 'volatility' });
    // The join: momentum per unit of volatility over the same horizon (√10 bars).
    const score = new ProcessingNode({
      name: 'risk_adjusted_momentum',
      input: [momentum, volatility],
      params: { horizon: 10 },
      computeFn: (view) => {
        const change = view.input(0).latest()!;
        const spread = view.input(1).latest()! * Math.sqrt(view.params.horizon);
        return spread > 0 ? change / spread : null;
      },
    });
    this.addNodes([price, momentum, volatility, score]);
  }
}
