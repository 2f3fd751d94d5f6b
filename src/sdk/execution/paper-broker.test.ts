import { describe, expect, it } from 'vitest';
import { thrownBy } from '../../common/errors.test-kit.js';
import { testBrokerContract } from './broker-contract.test-kit.js';
import type { Bar } from './broker.js';
import type { OrderRequest } from './order.js';
import { PaperBroker, type PaperBrokerOptions } from './paper-broker.js';

testBrokerContract('PaperBroker', () => Promise.resolve({ broker: new PaperBroker() }));

const NODE = 'n'.repeat(64);

/** A bar at `ts` opening at `open` and closing at `close`, ranging over both (and `extra`). */
function bar(ts: number, open: number, close = open, extra: Partial<Bar> = {}): Bar {
  return { ts, open, high: Math.max(open, close), low: Math.min(open, close), close, ...extra };
}

function buy(quantity: number, rest: Partial<OrderRequest> = {}): OrderRequest {
  return { symbol: 'BTC', side: 'buy', quantity, ...rest };
}

function sell(quantity: number, rest: Partial<OrderRequest> = {}): OrderRequest {
  return { symbol: 'BTC', side: 'sell', quantity, ...rest };
}

async function submit(broker: PaperBroker, bucket: number, order: OrderRequest): Promise<string> {
  return (await broker.submit(order, { bucket, nodeId: NODE })).orderId;
}

describe('PaperBroker market orders', () => {
  it('fill at the open of the next bar, never on the bar of their own bucket', async () => {
    const broker = new PaperBroker();
    await submit(broker, 60, buy(1));
    broker.onBar('BTC', bar(60, 90, 95));
    expect(broker.report().fills).toEqual([]);
    expect(broker.report().orders[0]?.status).toBe('accepted');
    broker.onBar('BTC', bar(120, 100, 104));
    expect(broker.report().fills).toEqual([
      {
        orderId: 'paper-1',
        ts: 120,
        symbol: 'BTC',
        side: 'buy',
        quantity: 1,
        price: 100,
        fee: 0,
        realizedPnl: 0,
      },
    ]);
    expect(broker.report().orders[0]?.status).toBe('filled');
  });

  it('ignore bars of other symbols', async () => {
    const broker = new PaperBroker();
    await submit(broker, 60, buy(1));
    broker.onBar('ETH', bar(120, 5));
    expect(broker.report().fills).toEqual([]);
  });

  it('pay slippage on the price and the fee on the notional, to the cent', async () => {
    const broker = new PaperBroker({ feeBps: 10, slippageBps: 50 });
    await submit(broker, 0, buy(2));
    broker.onBar('BTC', bar(60, 200, 300));
    await submit(broker, 60, sell(2));
    broker.onBar('BTC', bar(120, 400, 410));
    const report = broker.report();
    // buy: 200 × (1 + 0.005) = 201, fee 2 × 201 × 10 / 1e4; sell: 400 × (1 − 0.005) = 398.
    expect(report.fills.map((f) => [f.price, f.fee, f.realizedPnl])).toEqual([
      [201, 0.402, 0],
      [398, 0.796, 394],
    ]);
    expect(report).toMatchObject({ cash: 100_392.802, realizedPnl: 394, unrealizedPnl: 0, fees: 1.198 });
    expect(report.equity).toBe(100_392.802);
    expect(report.positions['BTC']).toEqual({
      quantity: 0,
      averagePrice: 0,
      lastPrice: 410,
      realizedPnl: 394,
      unrealizedPnl: 0,
    });
  });

  it('flip a long into a short: realise the long, open the rest at the fill price', async () => {
    const broker = new PaperBroker();
    await submit(broker, 0, buy(1));
    broker.onBar('BTC', bar(60, 100));
    await submit(broker, 60, sell(3));
    broker.onBar('BTC', bar(120, 110, 108));
    expect(broker.report()).toMatchObject({
      realizedPnl: 10,
      unrealizedPnl: 4,
      positions: { BTC: { quantity: -2, averagePrice: 110, lastPrice: 108 } },
      cash: 100_000 - 100 + 330,
      equity: 100_000 + 10 + 4,
    });
  });

  it('fill orders of one bar in the order they were submitted', async () => {
    const broker = new PaperBroker();
    await submit(broker, 0, sell(1));
    await submit(broker, 0, buy(3));
    broker.onBar('BTC', bar(60, 50));
    expect(broker.report().fills.map((f) => f.orderId)).toEqual(['paper-1', 'paper-2']);
    expect(broker.report().positions['BTC']?.quantity).toBe(2);
  });

  it('with fillAt "close", fill at the close of their own bar, whether it came before or after', async () => {
    const broker = new PaperBroker({ fillAt: 'close', slippageBps: 100 });
    broker.onBar('BTC', bar(60, 90, 100));
    await submit(broker, 60, buy(1));
    await submit(broker, 120, sell(1));
    expect(broker.report().fills.map((f) => [f.ts, f.price])).toEqual([[60, 101]]);
    broker.onBar('BTC', bar(120, 100, 200));
    expect(broker.report().fills.map((f) => [f.ts, f.price])).toEqual([
      [60, 101],
      [120, 198],
    ]);
    // The equity point of bar 60 includes the fill made after the bar was seen: 100 000 − 101 + 100.
    expect(broker.report().equityCurve[0]).toEqual([60, 99_999]);
  });
});

describe('PaperBroker limit orders', () => {
  it('fill at the first later bar whose range reaches the limit, at the limit', async () => {
    const broker = new PaperBroker({ slippageBps: 100 });
    await submit(broker, 60, buy(1, { type: 'limit', limitPrice: 95 }));
    broker.onBar('BTC', bar(60, 94)); // its own bucket: too early even though it trades below 95
    broker.onBar('BTC', bar(120, 99, 97, { low: 96 }));
    expect(broker.report().fills).toEqual([]);
    broker.onBar('BTC', bar(180, 97, 98, { low: 94 }));
    expect(broker.report().fills.map((f) => [f.ts, f.price])).toEqual([[180, 95]]);
  });

  it('fill at the open when the bar gaps through the limit', async () => {
    const broker = new PaperBroker();
    await submit(broker, 0, buy(1, { type: 'limit', limitPrice: 95 }));
    await submit(broker, 0, sell(1, { type: 'limit', limitPrice: 105 }));
    broker.onBar('BTC', bar(60, 93, 94));
    broker.onBar('BTC', bar(120, 107, 108));
    expect(broker.report().fills.map((f) => [f.side, f.price])).toEqual([
      ['buy', 93],
      ['sell', 107],
    ]);
  });

  it('sell when the high reaches the limit, and stay working otherwise', async () => {
    const broker = new PaperBroker();
    await submit(broker, 0, sell(1, { type: 'limit', limitPrice: 105 }));
    broker.onBar('BTC', bar(60, 100, 101, { high: 104.99 }));
    expect(broker.report().orders[0]?.status).toBe('accepted');
    broker.onBar('BTC', bar(120, 101, 102, { high: 106 }));
    expect(broker.report().fills.map((f) => f.price)).toEqual([105]);
  });
});

describe('PaperBroker account', () => {
  it('marks open positions at the last close and records one equity point per bar time', async () => {
    const broker = new PaperBroker({ initialCash: 1000 });
    await submit(broker, 0, buy(2));
    broker.onBar('BTC', bar(60, 100, 103));
    broker.onBar('ETH', bar(60, 7));
    broker.onBar('BTC', bar(120, 103, 99));
    expect(broker.report()).toMatchObject({ unrealizedPnl: -2, equity: 998 });
    expect(broker.report().equityCurve).toEqual([
      [60, 1006],
      [120, 998],
    ]);
  });

  it('gives byte-identical reports for the same inputs', async () => {
    const run = async (): Promise<string> => {
      const broker = new PaperBroker({ feeBps: 7, slippageBps: 3 });
      for (let i = 0; i < 20; i++) {
        await submit(broker, i * 60, i % 3 === 0 ? sell(1 + (i % 4)) : buy(0.5 + i / 10, { tag: `t${i}` }));
        broker.onBar('BTC', bar((i + 1) * 60, 100 + Math.sin(i) * 5, 100 + Math.cos(i) * 5));
      }
      return JSON.stringify(broker.report());
    };
    const first = await run();
    expect(await run()).toBe(first);
    expect(
      JSON.parse(first)
        .orders.map((o: { orderId: string }) => o.orderId)
        .slice(0, 3),
    ).toEqual(['paper-1', 'paper-2', 'paper-3']);
  });

  it('rejects bad options with every problem', () => {
    const options = { feeBps: -1, slippageBps: 'x', initialCash: Infinity, fillAt: 'open', fee: 1 };
    const error = thrownBy(() => new PaperBroker(options as unknown as PaperBrokerOptions));
    expect(error.problems.map((p) => p.message)).toEqual([
      'unknown option "fee" (known: feeBps, slippageBps, initialCash, fillAt)',
      'feeBps must be a finite number >= 0, got -1',
      'slippageBps must be a finite number >= 0, got "x"',
      'initialCash must be a finite number, got Infinity',
      'fillAt must be "next_open" or "close", got "open"',
    ]);
  });
});
