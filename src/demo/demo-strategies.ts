import type { IntervalLike } from '../common/interval.js';
import { ema, rsi } from '../indicators/node-factories.js';
import type { HistoryProvider } from '../sdk/history/protocols.js';
import type { Node } from '../sdk/node.js';
import { ProcessingNode } from '../sdk/processing-node.js';
import { StreamInput } from '../sdk/stream-input.js';
import { Strategy } from '../sdk/strategy.js';

/** A strategy of the demo: its price stream and the signal node (+1 long, -1 short, 0 flat). */
export abstract class DemoStrategy extends Strategy {
  price!: StreamInput;
  signal!: Node;

  constructor(
    protected readonly provider: HistoryProvider,
    interval: IntervalLike,
  ) {
    super({ defaultInterval: interval, defaultPeriod: 1 });
  }

  /** The BTC close stream every demo strategy declares; one node for all of them. */
  protected priceStream(): StreamInput {
    return new StreamInput({ tags: ['BTC', 'ohlcv'], historyProvider: this.provider });
  }
}

/** Long when EMA(10) of the close is above EMA(30), short otherwise. */
export class TrendFollowing extends DemoStrategy {
  setup(): void {
    this.price = this.priceStream();
    const fast = ema(this.price, { period: 10, field: 'close' });
    const slow = ema(this.price, { period: 30, field: 'close' });
    this.signal = new ProcessingNode({
      name: 'trend_signal',
      input: [fast, slow],
      computeFn: (view) => Math.sign(view.input(0).latest()! - view.input(1).latest()!),
    });
    this.addNodes([this.price, fast, slow, this.signal]);
  }
}

/** Long when RSI(14) is oversold, short when overbought, flat in between. */
export class MeanReversion extends DemoStrategy {
  setup(): void {
    this.price = this.priceStream();
    const strength = rsi(this.price, { period: 14, field: 'close' });
    this.signal = new ProcessingNode({
      name: 'reversion_signal',
      input: strength,
      params: { oversold: 30, overbought: 70 },
      computeFn: (view) => {
        const value = view.input().latest()!;
        return value < view.params.oversold ? 1 : value > view.params.overbought ? -1 : 0;
      },
    });
    this.addNodes([this.price, strength, this.signal]);
  }
}

/** Follows the EMA(30) trend only while RSI(14) is not stretched against it. */
export class FilteredMomentum extends DemoStrategy {
  setup(): void {
    this.price = this.priceStream();
    const slow = ema(this.price, { period: 30, field: 'close' });
    const strength = rsi(this.price, { period: 14, field: 'close' });
    this.signal = new ProcessingNode({
      name: 'momentum_signal',
      input: [this.price, slow, strength],
      params: { ceiling: 65, floor: 35 },
      computeFn: (view) => {
        const close = view.input<{ close: number }>(0).latest()!.close;
        const trend = Math.sign(close - view.input(1).latest()!);
        const strengthNow = view.input(2).latest()!;
        if (trend > 0 && strengthNow < view.params.ceiling) return 1;
        if (trend < 0 && strengthNow > view.params.floor) return -1;
        return 0;
      },
    });
    this.addNodes([this.price, slow, strength, this.signal]);
  }
}
