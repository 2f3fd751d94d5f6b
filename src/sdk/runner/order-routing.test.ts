import { describe, expect, it } from 'vitest';
import { PaperBroker } from '../execution/paper-broker.js';
import { signalOrders, tradeOrders } from '../execution/trade-order-node.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { ReplayFeed } from '../live/feeds/replay-feed.js';
import { ProcessingNode } from '../processing-node.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { Runner } from './runner.js';

const T0 = 1_704_067_200;
const rows = Array.from({ length: 200 }, (_, i) => {
  const close = 100 + Math.sin(i / 5) * 3;
  return { ts: T0 + i * 60, open: close - 0.1, high: close + 0.5, low: close - 0.5, close, volume: 10 };
});
const provider = new MemoryHistoryProvider(rows);

/** Long when the close rose, short when it fell; one unit. */
class Trader extends Strategy {
  constructor() {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }

  override setup(): void {
    const price = new StreamInput({
      tags: ['BTC', 'order-routing-test'],
      historyProvider: provider,
      liveFeed: new ReplayFeed({ provider }),
    });
    const trend = new ProcessingNode({
      name: 'trend',
      input: price,
      period: 2,
      computeFn: (view) => {
        const closes = view.input<{ close: number }>().field('close') as number[];
        return closes[1]! > closes[0]! ? 1 : -1;
      },
    });
    this.addNodes([price, trend, signalOrders(trend, { symbol: 'BTC', quantity: 1 })]);
  }
}

describe('order nodes in a run', () => {
  it('backtests through the simulated broker: fills at the next open, one deterministic report', async () => {
    const run = () => Runner.backtest(Trader, { startTime: T0, endTime: T0 + 199 * 60 });
    const [first, second] = [await run(), await run()];
    const report = first.execution!;
    expect(report.orders.length).toBeGreaterThan(10);
    expect(report.fills.length).toBe(report.orders.length);
    const fill = report.fills[0]!;
    const next = rows.find((row) => row.ts > report.orders[0]!.bucket)!;
    expect(fill.price).toBeCloseTo(next.open, 9);
    expect(JSON.stringify(second.execution)).toBe(JSON.stringify(report));
  });

  it("fills a coarser order node's plain orders once per bucket, however often it is recomputed", async () => {
    // A 3-minute order node over 1-minute bars computes its bucket three times, once per minute.
    class EveryBucket extends Strategy {
      constructor() {
        super({ defaultInterval: 60, defaultPeriod: 1 });
      }
      override setup(): void {
        const price = new StreamInput({ tags: ['BTC', 'coarse-orders-test'], historyProvider: provider });
        const orders = tradeOrders(price, {
          symbol: 'BTC',
          interval: 180,
          computeFn: (view) => ({ symbol: view.params.symbol, side: 'buy', quantity: 1 }),
        });
        this.addNodes([price, orders]);
      }
    }
    const result = await Runner.backtest(EveryBucket, { startTime: T0, endTime: T0 + 29 * 60 });
    const orders = result.nodeStats.find((s) => s.name === 'orders_BTC')!;
    expect(orders.computeCalls).toBe(30);
    const buckets = result.execution!.orders.map((o) => o.bucket);
    expect(buckets).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * 180));
    // Each order is placed at its bucket's first minute and fills at the next minute's open.
    expect(result.execution!.fills.map((f) => f.price)).toEqual(
      buckets.map((bucket) => rows.find((row) => row.ts === bucket + 60)!.open),
    );
  });

  it('dry-runs through the paper broker with the same report format, routing no warm-up order', async () => {
    const live = T0 + 100 * 60;
    const run = await Runner.dryrun(Trader, { startTime: live, endTime: T0 + 199 * 60 });
    await run.done;
    const report = run.execution!;
    const backtest = (await Runner.backtest(Trader, { startTime: T0, endTime: T0 + 199 * 60 })).execution!;
    expect(Object.keys(report).sort()).toEqual(Object.keys(backtest).sort());
    expect(report.orders.length).toBeGreaterThan(5);
    expect(Math.min(...report.orders.map((o) => o.bucket))).toBeGreaterThanOrEqual(live);
  });

  it('starts a live run from the positions the venue holds: the order node trades the difference', async () => {
    const live = async (positions?: Record<string, number>) => {
      const run = await Runner.live(Trader, {
        broker: new PaperBroker(),
        startTime: T0 + 100 * 60,
        endTime: T0 + 130 * 60,
        ...(positions && { positions }),
      });
      await run.done;
      return run.execution!.orders.map((o) => [o.bucket, o.side, o.quantity]);
    };
    const flat = await live();
    const [, side, quantity] = flat[0]!;
    const restarted = await live({ BTC: side === 'buy' ? (quantity as number) : -(quantity as number) });
    expect(flat.length).toBeGreaterThanOrEqual(3);
    expect(restarted).toEqual(flat.slice(1));
  });

  it('names a position no single order node of the run can take', async () => {
    const range = { startTime: T0 + 100 * 60, endTime: T0 + 110 * 60 };
    await expect(
      Runner.live(Trader, { ...range, broker: new PaperBroker(), positions: { BTC: '2' as never } }),
    ).rejects.toThrow(/positions\.BTC must be a finite number, got "2"/);
    await expect(
      Runner.backtest(Trader, { startTime: T0, endTime: T0 + 60, positions: { BTC: 1 } }),
    ).rejects.toThrow(/a backtest run's simulated broker starts flat/);
    class TwoTraders extends Strategy {
      constructor() {
        super({ defaultInterval: 60, defaultPeriod: 1 });
      }
      override setup(): void {
        const price = new StreamInput({ tags: ['BTC', 'two-traders-test'], historyProvider: provider });
        this.addNodes([
          price,
          signalOrders(price, { symbol: 'BTC', quantity: 1, name: 'small' }),
          signalOrders(price, { symbol: 'BTC', quantity: 2, name: 'large' }),
        ]);
      }
    }
    await expect(
      Runner.live(TwoTraders, { ...range, broker: new PaperBroker(), positions: { BTC: 1 } }),
    ).rejects.toThrow(/"BTC" is traded by several order nodes \("small", "large"\)/);
  });

  it('refuses a simulated run whose order node trades a symbol no price stream carries', async () => {
    // A misspelt symbol, or the symbol not the stream's first tag: its orders could never fill.
    class Misspelt extends Strategy {
      constructor() {
        super({ defaultInterval: 60, defaultPeriod: 1 });
      }
      override setup(): void {
        const price = new StreamInput({ tags: ['BTC', 'misspelt-symbol-test'], historyProvider: provider });
        const orders = tradeOrders(price, {
          symbol: 'BTCUSD',
          computeFn: (view) => ({ symbol: view.params.symbol, side: 'buy', quantity: 1 }),
        });
        this.addNodes([price, orders]);
      }
    }
    const unpriced =
      /order node "orders_BTCUSD" trades "BTCUSD", which no price stream of the run carries, so its orders could never fill \(price streams: "BTC"\)/;
    await expect(Runner.backtest(Misspelt, { startTime: T0, endTime: T0 + 60 })).rejects.toThrow(unpriced);
    await expect(Runner.dryrun(Misspelt, { startTime: T0 + 100 * 60 })).rejects.toThrow(unpriced);
    // A live venue prices its own orders.
    const live = await Runner.live(Misspelt, {
      broker: new PaperBroker(),
      startTime: T0 + 100 * 60,
      endTime: T0 + 101 * 60,
    });
    await live.done;
  });

  it('refuses a broker in a run whose broker is simulated, rather than ignoring it', async () => {
    const mine = new PaperBroker({ feeBps: 50 });
    await expect(Runner.backtest(Trader, { startTime: T0, endTime: T0 + 60, broker: mine })).rejects.toThrow(
      /broker \(--broker-url\) is the venue of a live run; a backtest run trades on a simulated PaperBroker, set with paper/,
    );
    await expect(Runner.dryrun(Trader, { startTime: T0 + 100 * 60, broker: mine })).rejects.toThrow(
      /a dryrun run trades on a simulated PaperBroker/,
    );
  });

  it('refuses a live run with order nodes and no broker', async () => {
    await expect(Runner.live(Trader, { startTime: T0 + 100 * 60 })).rejects.toThrow(
      /a live run with order nodes \("signal_orders_BTC"\) needs a broker/,
    );
  });
});
