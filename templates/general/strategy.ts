/**
 * A starting point: one price stream, a signal computed over a window of it, and an order node
 * that trades the signal on the simulated broker. Run it with `npm run backtest`.
 */
import { ProcessingNode, Strategy, StreamInput, signalOrders } from 'qmtl';
import type { OhlcvBar } from './generators/index.js';
import { priceHistory } from './history.js';

export class GeneralStrategy extends Strategy {
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
    // Long above the 20-bar mean by more than the band, short below it, flat in between. Every
    // number the compute function depends on goes in params: they are part of the node's identity.
    const breakout = new ProcessingNode({
      name: 'breakout',
      input: price,
      period: 20,
      params: { band: 0.001 },
      computeFn: (view) => {
        const bars = view.input<OhlcvBar>().values();
        const mean = bars.reduce((sum, bar) => sum + bar.close, 0) / bars.length;
        const last = bars[bars.length - 1]!.close;
        if (last > mean * (1 + view.params.band)) return 1;
        if (last < mean * (1 - view.params.band)) return -1;
        return 0;
      },
    });
    // Holds one unit long on +1, one short on -1, nothing on 0; the run reports trades and PnL.
    const orders = signalOrders(breakout, { symbol: 'SAMPLE', quantity: 1 });
    this.addNodes([price, breakout, orders]);
  }
}
