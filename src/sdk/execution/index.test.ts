import { describe, expect, it } from 'vitest';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { ProcessingNode } from '../processing-node.js';
import type { RunResult } from '../runner/run-result.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import {
  OrderRouter,
  PaperBroker,
  signalOrders,
  type ExecutionReport,
  type TradeOrderNode,
} from './index.js';

const CLOSES = [100, 102, 104, 103, 101, 99, 100, 103];
const provider = new MemoryHistoryProvider(
  CLOSES.map((close, i) => ({ ts: 60 * (i + 1), open: close - 0.5, high: close + 1, low: close - 1, close })),
);

/** Long while the close rises, short while it falls. */
class Momentum extends Strategy {
  price!: StreamInput;
  orders!: TradeOrderNode;

  constructor() {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }

  setup(): void {
    this.price = new StreamInput({ tags: ['BTC', 'ohlcv'], historyProvider: provider });
    const direction = new ProcessingNode({
      name: 'direction',
      input: this.price,
      period: 2,
      computeFn: (view) => {
        const bars = view.input<{ close: number }>();
        return Math.sign(bars.at(-1)!.close - bars.at(0)!.close);
      },
    });
    this.orders = signalOrders(direction, { symbol: 'BTC', quantity: 1 });
    this.addNodes([this.price, direction, this.orders]);
  }
}

/** Feeds a finished run to a router: per bucket, the bar first, then that bucket's orders. */
async function replay(result: RunResult, strategy: Momentum, router: OrderRouter): Promise<ExecutionReport> {
  router.priceStream(strategy.price.nodeId, 'BTC');
  const orders = new Map(result.outputs(strategy.orders).toArray());
  for (const [bucket, row] of result.outputs(strategy.price).toArray()) {
    void router.onStreamOutput(strategy.price.nodeId, bucket, row);
    if (orders.has(bucket)) void router.onOrders(bucket, strategy.orders, orders.get(bucket));
  }
  await router.flush();
  return router.report();
}

async function backtest(): Promise<ExecutionReport> {
  const strategy = new Momentum();
  const result = await Runner.backtest(strategy, { startTime: 60, endTime: 480, keepOutputs: 'all' });
  return replay(result, strategy, new OrderRouter(new PaperBroker({ feeBps: 10 })));
}

describe('the execution layer over a backtest', () => {
  it('trades the signal changes at the next open', async () => {
    const report = await backtest();
    // Signals from bar 120: +1 +1 −1 −1 −1 +1 +1. Orders: buy 1 @120 → fills at bar 180's open
    // 103.5; sell 2 @240 → bar 300's open 100.5; buy 2 @420 → bar 480's open 102.5.
    expect(report.fills.map((f) => [f.ts, f.side, f.quantity, f.price, f.realizedPnl])).toEqual([
      [180, 'buy', 1, 103.5, 0],
      [300, 'sell', 2, 100.5, -3],
      [480, 'buy', 2, 102.5, -2],
    ]);
    expect(report.positions['BTC']).toMatchObject({ quantity: 1, averagePrice: 102.5, lastPrice: 103 });
    expect(report.unrealizedPnl).toBe(0.5);
    expect(report.equityCurve).toHaveLength(CLOSES.length);
  });

  it('is byte-identical across runs', async () => {
    expect(JSON.stringify(await backtest())).toBe(JSON.stringify(await backtest()));
  });

  it('is what the Runner reports when it routes the order node itself', async () => {
    const result = await Runner.backtest(Momentum, { startTime: 60, endTime: 480, paper: { feeBps: 10 } });
    expect(result.execution).toEqual(await backtest());
  });
});
