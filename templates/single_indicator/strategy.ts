/**
 * One indicator on one stream: the 10-bar EMA of the close. Run it with `npm run backtest`.
 */
import { Strategy, StreamInput } from 'qmtl';
import { priceHistory } from './history.js';
import { ema } from './indicators/index.js';

export class SingleIndicatorStrategy extends Strategy {
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
    // The period and the field are part of the node's identity: ema(price, { period: 20 }) is
    // another node, and two strategies' ema(price, { period: 10 }) are one, computed once.
    const average = ema(price, { period: 10, field: 'close' });
    this.addNodes([price, average]);
  }
}
