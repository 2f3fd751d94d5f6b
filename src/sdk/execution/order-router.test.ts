import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../common/logger.js';
import type { Bar, Broker, ExecutionReport, OrderAck, OrderContext } from './broker.js';
import type { OrderRequest } from './order.js';
import { OrderRouter } from './order-router.js';
import { PaperBroker } from './paper-broker.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** A PaperBroker whose submissions can be held back, rejected or made to throw, one call at a time. */
class ScriptedBroker implements Broker {
  readonly paper = new PaperBroker();
  readonly submitted: OrderRequest[] = [];
  readonly bars: Array<[string, Bar]> = [];
  /** What the next submissions do, in order; `undefined` = pass to the paper broker. */
  readonly script: Array<'reject' | 'throw' | Promise<void> | undefined> = [];
  failBars = false;

  async submit(order: OrderRequest, context: OrderContext): Promise<OrderAck> {
    this.submitted.push(order);
    const step = this.script.shift();
    if (step === 'reject') return { orderId: 'x', status: 'rejected', reason: 'no liquidity' };
    if (step === 'throw') throw new Error('venue unreachable');
    if (step !== undefined) await step;
    return this.paper.submit(order, context);
  }

  onBar(symbol: string, bar: Bar): void {
    if (this.failBars) throw new Error('feed broken');
    this.bars.push([symbol, bar]);
    this.paper.onBar(symbol, bar);
  }

  report(): ExecutionReport {
    return this.paper.report();
  }

  close(): Promise<void> {
    return this.paper.close();
  }
}

const buy = (quantity: number): OrderRequest => ({ symbol: 'BTC', side: 'buy', quantity });
const row = (ts: number, open: number, close = open) => ({
  ts,
  open,
  high: Math.max(open, close),
  low: Math.min(open, close),
  close,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('OrderRouter orders', () => {
  it('submits a single order or an array, in order, and ignores null', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    expect(await router.onOrders(60, A, buy(1))).toMatchObject({ accepted: 1 });
    expect(await router.onOrders(120, A, [buy(2), { ...buy(3), side: 'sell' }])).toMatchObject({
      accepted: 2,
    });
    expect(await router.onOrders(60, A, null)).toEqual({
      accepted: 0,
      rejected: 0,
      invalid: 0,
      failed: 0,
      unchanged: 0,
      late: 0,
      repeated: 0,
    });
    expect(broker.submitted.map((o) => [o.side, o.quantity])).toEqual([
      ['buy', 1],
      ['buy', 2],
      ['sell', 3],
    ]);
  });

  it('never routes a recompute of an older bucket (late data)', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    expect(await router.onOrders(120, A, buy(1))).toMatchObject({ accepted: 1 });
    expect(await router.onOrders(60, A, [buy(3), buy(4)])).toMatchObject({ accepted: 0, late: 2 });
    expect(await router.onOrders(60, 'other-node', buy(5))).toMatchObject({ accepted: 1 });
    expect(broker.submitted.map((o) => o.quantity)).toEqual([1, 5]);
    expect(router.stats.late).toBe(2);
  });

  it("places a bucket's plain orders once; a recompute of it re-sends only its targets", async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    // The first output of bucket 120 holds only a target: a later recompute may still place orders.
    expect(await router.onOrders(120, A, { symbol: 'BTC', target: 1 })).toMatchObject({ accepted: 1 });
    expect(await router.onOrders(120, A, [buy(2), buy(3)])).toMatchObject({ accepted: 2 });
    // Recomputes of bucket 120: its plain orders were placed, its targets trade the difference.
    expect(await router.onOrders(120, A, [buy(2), { symbol: 'ETH', target: 1 }])).toMatchObject({
      accepted: 1,
      repeated: 1,
    });
    expect(await router.onOrders(120, A, { symbol: 'ETH', target: 1 })).toMatchObject({ unchanged: 1 });
    expect(await router.onOrders(120, B, buy(7))).toMatchObject({ accepted: 1 });
    expect(await router.onOrders(180, A, buy(4))).toMatchObject({ accepted: 1 });
    expect(broker.submitted.map((o) => [o.symbol, o.quantity])).toEqual([
      ['BTC', 1],
      ['BTC', 2],
      ['BTC', 3],
      ['ETH', 1],
      ['BTC', 7],
      ['BTC', 4],
    ]);
    expect(router.stats.repeated).toBe(1);
  });

  it('counts and logs invalid items with a clear reason, and still submits the valid ones', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    const summary = await router.onOrders(60, { nodeId: A, name: 'orders' }, [
      buy(1),
      { ...buy(1), quantity: -1 },
      'sell',
    ]);
    expect(summary).toMatchObject({ accepted: 1, invalid: 2 });
    expect(broker.submitted).toHaveLength(1);
    const messages = warn.mock.calls.map(([fields]) => (fields as { err: Error }).err.message);
    expect(messages[0]).toContain(
      'node "orders" at bucket 1970-01-01T00:01:00Z: order[1]: quantity must be a finite number > 0, got -1',
    );
    expect(messages[1]).toContain('order[2] must be an object like {symbol, side, quantity}, got "sell"');
    expect(router.stats).toMatchObject({ accepted: 1, invalid: 2 });
  });

  it('turns target positions into the orders that move the node there', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    await router.onOrders(60, A, { symbol: 'BTC', target: 2 });
    expect(await router.onOrders(120, A, { symbol: 'BTC', target: 2 })).toMatchObject({ unchanged: 1 });
    await router.onOrders(180, A, { symbol: 'BTC', target: -2, tag: 'flip' });
    await router.onOrders(240, A, { symbol: 'BTC', target: 0 });
    expect(broker.submitted).toEqual([
      { symbol: 'BTC', side: 'buy', quantity: 2, type: 'market', tag: 'target' },
      { symbol: 'BTC', side: 'sell', quantity: 4, type: 'market', tag: 'flip' },
      { symbol: 'BTC', side: 'buy', quantity: 2, type: 'market', tag: 'target' },
    ]);
    expect(router.position(A, 'BTC')).toBe(0);
  });

  it('trades targets from a start position (a live run restarting with an open position)', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker).startPosition(A, 'BTC', 2);
    expect(await router.onOrders(60, A, { symbol: 'BTC', target: 2 })).toMatchObject({ unchanged: 1 });
    expect(await router.onOrders(120, A, { symbol: 'BTC', target: -1 })).toMatchObject({ accepted: 1 });
    expect(broker.submitted).toEqual([
      { symbol: 'BTC', side: 'sell', quantity: 3, type: 'market', tag: 'target' },
    ]);
    expect(router.position(B, 'BTC')).toBe(0);
    expect(() => router.startPosition(A, 'BTC', NaN)).toThrow(
      /startPosition: quantity of "BTC" must be a finite number, got NaN/,
    );
  });

  it('keeps one book per node', async () => {
    const router = new OrderRouter(new ScriptedBroker());
    await router.onOrders(60, A, { symbol: 'BTC', target: 1 });
    await router.onOrders(60, B, { symbol: 'BTC', target: -3 });
    await router.onOrders(60, A, buy(0.5));
    expect([router.position(A, 'BTC'), router.position(B, 'BTC')]).toEqual([1.5, -3]);
  });

  it('leaves the book alone when an order is rejected, so the next target tries again', async () => {
    const broker = new ScriptedBroker();
    broker.script.push('reject');
    const router = new OrderRouter(broker);
    expect(await router.onOrders(60, A, { symbol: 'BTC', target: 1 })).toMatchObject({ rejected: 1 });
    expect(await router.onOrders(120, A, { symbol: 'BTC', target: 1 })).toMatchObject({ accepted: 1 });
    expect(broker.submitted).toHaveLength(2);
  });

  it('counts a broker that throws as failed and goes on with the next order', async () => {
    const broker = new ScriptedBroker();
    broker.script.push('throw');
    const router = new OrderRouter(broker);
    expect(await router.onOrders(60, A, [buy(1), buy(2)])).toMatchObject({ failed: 1, accepted: 1 });
    expect(router.position(A, 'BTC')).toBe(2);
  });

  it('refuses a bucket that is not a number: that is a Runner bug', () => {
    expect(() => new OrderRouter(new ScriptedBroker()).onOrders(Number.NaN, A, buy(1))).toThrow(
      'onOrders: bucket must be a finite number, got NaN',
    );
  });
});

describe('OrderRouter bars', () => {
  it('forwards the rows of a declared price stream as bars at the bucket', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker).priceStream('stream-1', 'BTC');
    expect(router.symbolOf('stream-1')).toBe('BTC');
    expect(router.onStreamOutput('other', 60, row(65, 1))).toBeNull();
    await router.onStreamOutput('stream-1', 60, { ts: 65, close: 7 });
    expect(broker.bars).toEqual([['BTC', { ts: 60, open: 7, high: 7, low: 7, close: 7 }]]);
  });

  it('drops and counts a row that is not a bar', async () => {
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker);
    await router.onBar('BTC', { ts: 60, price: 1 });
    expect(broker.bars).toEqual([]);
    expect(router.stats.invalidBars).toBe(1);
  });

  it('skips an inconsistent bar: no fill at prices the market never offered, a warning naming stream, bucket and fields', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const broker = new ScriptedBroker();
    const router = new OrderRouter(broker).priceStream(A, 'BTC');
    await router.onOrders(60, A, buy(1));
    await router.onStreamOutput(A, 120, { ts: 120, open: 100, high: 99, low: 101, close: 100 });
    await router.onStreamOutput(A, 180, { ts: 180, open: 100, high: 101, low: 99, close: 250 });
    expect(broker.bars).toEqual([]);
    expect(broker.report().fills).toEqual([]);
    expect(router.stats.invalidBars).toBe(2);
    expect(warned).toHaveBeenNthCalledWith(
      1,
      expect.objectContaining({
        symbol: 'BTC',
        stream: A,
        bucket: 120,
        err: expect.objectContaining({
          message:
            'price bar {"ts":120,"open":100,"high":99,"low":101,"close":100} is not a consistent bar: low 101 is above high 99',
        }) as unknown,
      }),
      'execution.invalid_bar',
    );
    expect(warned.mock.calls[1]![0]).toMatchObject({
      bucket: 180,
      err: { message: expect.stringContaining('close 250 is outside [low 99, high 101]') as unknown },
    });
    // The order waits for the next consistent bar and fills at its open.
    await router.onStreamOutput(A, 240, row(240, 102));
    expect(broker.report().fills).toMatchObject([{ ts: 240, price: 102 }]);
  });

  it('keeps going when the broker fails on a bar, without a rejected promise', async () => {
    const broker = new ScriptedBroker();
    broker.failBars = true;
    const router = new OrderRouter(broker);
    await expect(router.onBar('BTC', row(60, 1))).resolves.toBeUndefined();
    broker.failBars = false;
    await router.onBar('BTC', row(120, 1));
    expect(broker.bars.map(([, bar]) => bar.ts)).toEqual([120]);
  });

  it('delivers bars and orders in call order even when nobody awaits', async () => {
    const broker = new ScriptedBroker();
    let release!: () => void;
    broker.script.push(new Promise<void>((resolve) => (release = resolve)));
    const router = new OrderRouter(broker);
    void router.onOrders(60, A, buy(1));
    void router.onBar('BTC', row(120, 100));
    void router.onBar('BTC', row(180, 200));
    await new Promise((resolve) => setImmediate(resolve));
    expect(broker.bars).toEqual([]);
    release();
    await router.flush();
    // The order reached the broker before bar 120, so it fills at 120's open, not 180's.
    expect(router.report().fills.map((f) => [f.ts, f.price])).toEqual([[120, 100]]);
  });
});

describe('OrderRouter with a PaperBroker', () => {
  /** Bars at 60…360; targets long, long, short, short, flat, flat (×2) — orders follow each bar. */
  async function session(): Promise<OrderRouter> {
    const router = new OrderRouter(new PaperBroker({ feeBps: 10, slippageBps: 50 })).priceStream('px', 'BTC');
    const opens = [200, 400, 600, 400, 200, 300];
    const targets = [1, 1, -1, -1, 0, 0];
    for (let i = 0; i < opens.length; i++) {
      const bucket = 60 * (i + 1);
      void router.onStreamOutput('px', bucket, row(bucket, opens[i]!));
      void router.onOrders(bucket, A, { symbol: 'BTC', target: targets[i]! * 2 });
    }
    await router.flush();
    return router;
  }

  it('moves the position to each target at the next open, with exact fees, slippage and PnL', async () => {
    const report = (await session()).report();
    // Bucket 60 buys 2 at bar 120: 400 × 1.005 = 402. Bucket 180 sells 4 at bar 240: 400 × 0.995 =
    // 398, realising 2 × (398 − 402) and opening a short at 398. Bucket 300 buys 2 at bar 360:
    // 300 × 1.005 = 301.5, realising 2 × (398 − 301.5). Fees are 10 bps of each notional.
    expect(report.fills.map((f) => [f.ts, f.side, f.quantity, f.price, f.fee, f.realizedPnl])).toEqual([
      [120, 'buy', 2, 402, 0.804, 0],
      [240, 'sell', 4, 398, 1.592, -8],
      [360, 'buy', 2, 301.5, 0.603, 193],
    ]);
    expect(report.orders.map((o) => o.status)).toEqual(['filled', 'filled', 'filled']);
    expect(report).toMatchObject({ realizedPnl: 185, unrealizedPnl: 0, positions: { BTC: { quantity: 0 } } });
    // Sums of decimal fees carry binary rounding; the identity equity = cash0 + PnL − fees holds.
    expect(report.fees).toBeCloseTo(2.999, 12);
    expect(report.equity).toBeCloseTo(100_000 + 185 - 2.999, 9);
    expect(report.equity).toBe(report.cash);
    expect(report.equityCurve.map(([ts]) => ts)).toEqual([60, 120, 180, 240, 300, 360]);
  });

  it('gives byte-identical reports for two runs', async () => {
    expect(JSON.stringify((await session()).report())).toBe(JSON.stringify((await session()).report()));
  });
});
