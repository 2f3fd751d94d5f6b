import { ema, rsi } from '../src/indicators/node-factories.js';
import type { HistoryProvider } from '../src/sdk/history/protocols.js';
import { ProcessingNode } from '../src/sdk/processing-node.js';
import { Strategy } from '../src/sdk/strategy.js';
import { StreamInput } from '../src/sdk/stream-input.js';

/** StreamInput → EMA(20) → signal: the chain of the throughput and memory benchmarks. */
export class EmaSignal extends Strategy {
  constructor(private readonly provider: HistoryProvider) {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }
  setup(): void {
    const price = new StreamInput({ tags: ['BENCH', 'close'], historyProvider: this.provider });
    const average = ema(price, { period: 20, field: 'close' });
    const signal = new ProcessingNode({
      name: 'signal',
      input: [price, average],
      computeFn: (view) =>
        view.input<{ close: number }>(0).latest()!.close > view.input(1).latest()! ? 1 : -1,
    });
    this.addNodes([price, average, signal]);
  }
}

/** A 5-node chain: StreamInput → EMA(10) → EMA(30) of the EMA → RSI(14) of the EMA → signal. */
export class FiveNodeChain extends Strategy {
  constructor(private readonly provider: HistoryProvider) {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }
  setup(): void {
    const price = new StreamInput({ tags: ['BENCH', 'close'], historyProvider: this.provider });
    const fast = ema(price, { period: 10, field: 'close' });
    const slow = ema(fast, { period: 30 });
    const strength = rsi(fast, { period: 14 });
    const signal = new ProcessingNode({
      name: 'signal',
      input: [fast, slow, strength],
      computeFn: (view) =>
        view.input(0).latest()! > view.input(1).latest()! && view.input(2).latest()! < 70 ? 1 : 0,
    });
    this.addNodes([price, fast, slow, strength, signal]);
  }
}
