import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { thrownBy } from '../../common/errors.test-kit.js';
import { CacheView } from '../cache/cache-view.js';
import { NodeCache } from '../cache/node-cache.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import type { Node } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';
import { signalOrders, tradeOrders, TradeOrderNode } from './trade-order-node.js';

const price = (): StreamInput => new StreamInput({ tags: ['BTC', 'ohlcv'], interval: 60, period: 1 });

/** Calls `node`'s compute function on a view whose single input holds `values` at 60, 120, …. */
function computeOn(node: Node, values: readonly unknown[]): unknown {
  const cache = new NodeCache(values.length);
  const upstream = node.inputs[0]!.nodeId;
  values.forEach((value, i) => cache.append(upstream, 60, (i + 1) * 60, value));
  const view = new CacheView(cache, {
    nodeName: node.name,
    inputs: [{ id: upstream, interval: 60 }],
    params: node.params,
  });
  view.setTime(values.length * 60);
  return node.computeFn!(view);
}

describe('TradeOrderNode', () => {
  it('is a processing node with its own node type on the wire', () => {
    const node = new TradeOrderNode({ input: price(), computeFn: (_view) => null });
    expect(node).toBeInstanceOf(ProcessingNode);
    expect(node.nodeType).toBe('TradeOrderNode');
    expect(node.toJSON().node_type).toBe('TradeOrderNode');
    expect(node.symbol).toBeNull();
  });
});

describe('tradeOrders', () => {
  it('puts the symbol in params, so it is part of the NodeID', () => {
    const source = price();
    const compute = (view: CacheView<{ symbol: string }>) => ({
      symbol: view.params.symbol,
      side: 'buy',
      quantity: 1,
    });
    const btc = tradeOrders(source, { symbol: 'BTC', computeFn: compute, params: { size: 1 } });
    expect(btc.params).toEqual({ size: 1, symbol: 'BTC' });
    expect(btc.symbol).toBe('BTC');
    expect(btc.name).toBe('orders_BTC');
    expect(tradeOrders(source, { symbol: 'BTC', computeFn: compute, params: { size: 1 } }).nodeId).toBe(
      btc.nodeId,
    );
    expect(tradeOrders(source, { symbol: 'ETH', computeFn: compute, params: { size: 1 } }).nodeId).not.toBe(
      btc.nodeId,
    );
  });

  it('computes the orders its function returns', () => {
    const node = tradeOrders(price(), {
      symbol: 'BTC',
      computeFn: (view) =>
        view.input().latest() === 1 ? { symbol: view.params.symbol, side: 'buy', quantity: 2 } : null,
    });
    expect(computeOn(node, [0, 1])).toEqual({ symbol: 'BTC', side: 'buy', quantity: 2 });
    expect(computeOn(node, [1, 0])).toBeNull();
  });

  it('refuses an empty symbol', () => {
    expect(thrownBy(() => tradeOrders(price(), { symbol: ' ' })).message).toBe(
      'tradeOrders(): symbol must be a non-empty string, got " "',
    );
  });
});

describe('signalOrders', () => {
  const signal = (): ProcessingNode =>
    new ProcessingNode({ name: 'sig', input: price(), interval: 60, computeFn: (_view) => 1 });

  it('holds symbol and quantity in params, and looks only at the newest signal', () => {
    const node = signalOrders(signal(), { symbol: 'BTC', quantity: 3 });
    expect(node.params).toEqual({ symbol: 'BTC', quantity: 3 });
    expect(node.period).toBe(1);
    expect(node.name).toBe('signal_orders_BTC');
    expect(node.interval).toBe(60);
    expect(signalOrders(signal(), { symbol: 'BTC', quantity: 4 }).nodeId).not.toBe(node.nodeId);
  });

  it('turns +1 / -1 / 0 into a long, short or flat target of the quantity', () => {
    const node = signalOrders(signal(), { symbol: 'BTC', quantity: 3 });
    expect(computeOn(node, [1])).toEqual({ symbol: 'BTC', target: 3, tag: 'signal' });
    expect(computeOn(node, [-1])).toEqual({ symbol: 'BTC', target: -3, tag: 'signal' });
    expect(Object.is((computeOn(node, [-0]) as { target: number }).target, 0)).toBe(true);
    expect(computeOn(node, [0.2])).toMatchObject({ target: 3 });
  });

  it('throws, naming the symbol and value, on a signal that is not a number', () => {
    const node = signalOrders(signal(), { symbol: 'BTC', quantity: 1 });
    const error = thrownBy(() => computeOn(node, [{ close: 1 }]));
    expect(error.message).toBe(
      'signalOrders "BTC": the signal must be a number (+1 long, -1 short, 0 flat), got {"close":1}',
    );
  });

  it('refuses a quantity that is not > 0', () => {
    const error = thrownBy(() => signalOrders(signal(), { symbol: 'BTC', quantity: 0 }));
    expect(error.code).toBe(ErrorCode.InvalidNode);
    expect(error.message).toBe('signalOrders(): quantity must be a finite number > 0, got 0');
  });

  it('emits one target per bar in a backtest', async () => {
    const closes = [100, 101, 99, 98, 102];
    const provider = new MemoryHistoryProvider(closes.map((close, i) => ({ ts: 60 * (i + 1), close })));
    let orders!: TradeOrderNode;
    class Follow extends Strategy {
      constructor() {
        super({ defaultInterval: 60, defaultPeriod: 1 });
      }

      setup(): void {
        const px = new StreamInput({ tags: ['BTC'], interval: 60, period: 1, historyProvider: provider });
        const direction = new ProcessingNode({
          name: 'direction',
          input: px,
          period: 2,
          computeFn: (view) =>
            Math.sign(
              view.input<{ close: number }>().at(-1)!.close - view.input<{ close: number }>().at(0)!.close,
            ),
        });
        orders = signalOrders(direction, { symbol: 'BTC', quantity: 1 });
        this.addNodes([px, direction, orders]);
      }
    }
    const result = await Runner.backtest(Follow, { startTime: 60, endTime: 300 });
    expect(
      result
        .outputs(orders)
        .toArray()
        .map(([t, v]) => [t, (v as { target: number }).target]),
    ).toEqual([
      [120, 1],
      [180, -1],
      [240, -1],
      [300, 1],
    ]);
  });
});
