/**
 * Three indicators of one stream (EMA 5, EMA 20, RSI 14) combined into one signal: long while the
 * fast EMA is above the slow one and the RSI is not overbought, short in the mirror case. Run it
 * with `npm run backtest`.
 */
import { ProcessingNode, Strategy, StreamInput } from 'qmtl';
import { priceHistory } from './history.js';
import { ema, rsi } from './indicators/index.js';

export class MultiIndicatorStrategy extends Strategy {
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
    // Different periods make different nodes (the period is part of the NodeID).
    const fast = ema(price, { period: 5, field: 'close' });
    const slow = ema(price, { period: 20, field: 'close' });
    const strength = rsi(price, { period: 14, field: 'close' });
    const signal = new ProcessingNode({
      name: 'trend_signal',
      input: [fast, slow, strength],
      params: { overbought: 70, oversold: 30 },
      computeFn: (view) => {
        const fastValue = view.input(0).latest()!;
        const slowValue = view.input(1).latest()!;
        const rsiValue = view.input(2).latest()!;
        if (fastValue > slowValue && rsiValue < view.params.overbought) return 1;
        if (fastValue < slowValue && rsiValue > view.params.oversold) return -1;
        return 0;
      },
    });
    this.addNodes([price, fast, slow, strength, signal]);
  }
}
