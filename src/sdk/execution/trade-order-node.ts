import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { IntervalLike } from '../../common/interval.js';
import type { CacheView } from '../cache/cache-view.js';
import type { ComputeFn, Node, Params } from '../node.js';
import { ProcessingNode } from '../processing-node.js';
import type { OrderIntent, TargetPosition } from './order.js';

/**
 * What an order node's compute function returns for a bucket: one order or target position, an
 * array of them, or `null`/`undefined` for none.
 */
export type OrderOutput = OrderIntent | readonly OrderIntent[] | null | undefined;

/**
 * A node whose outputs are orders (SPEC §3.5): the Runner routes each one to the run's broker
 * through an {@link OrderRouter} — simulated in a backtest, paper in a dry-run, a venue live. Its
 * compute function stays pure: it only says what to trade, never talks to a broker.
 *
 * @example
 * const orders = new TradeOrderNode({
 *   input: signal,
 *   params: { symbol: 'BTC' },
 *   computeFn: (view) => (view.input().latest() === 1 ? { symbol: view.params.symbol, side: 'buy', quantity: 1 } : null),
 * });
 */
export class TradeOrderNode<P extends Params = Params> extends ProcessingNode<P> {
  static override readonly nodeType: string = 'TradeOrderNode';

  /** The symbol in `params.symbol`, or null when the node trades several. */
  get symbol(): string | null {
    const symbol = this.params['symbol'];
    return typeof symbol === 'string' ? symbol : null;
  }
}

/** Options of {@link tradeOrders}. */
export interface TradeOrdersOptions<P extends Params> {
  /** The symbol traded; put in `params.symbol`, so part of the NodeID. */
  readonly symbol: string;
  /** Returns the bucket's orders. Without one, the input's outputs pass through as orders. */
  readonly computeFn?: ComputeFn<P & { symbol: string }>;
  readonly params?: P;
  /** Default: the (first) input's interval, else the strategy default. */
  readonly interval?: IntervalLike;
  readonly period?: number;
  /** Default `orders_<symbol>`. */
  readonly name?: string;
}

/**
 * An order node trading `symbol`, whose compute function reads `view.params.symbol`.
 * @example
 * const orders = tradeOrders(signal, {
 *   symbol: 'BTC',
 *   params: { size: 2 },
 *   computeFn: (view) => view.input().latest() === 1 ? { symbol: view.params.symbol, side: 'buy', quantity: view.params.size } : null,
 * });
 */
export function tradeOrders<P extends Params = Params>(
  input: Node | readonly Node[],
  options: TradeOrdersOptions<P>,
): TradeOrderNode<P & { symbol: string }> {
  const { symbol, computeFn, params, period, name } = options;
  checkSymbol(symbol, 'tradeOrders()');
  const interval = options.interval ?? intervalOf(input);
  return new TradeOrderNode<P & { symbol: string }>({
    input,
    name: name ?? `orders_${symbol}`,
    params: { ...(params as P), symbol },
    ...(computeFn !== undefined && { computeFn }),
    ...(interval !== undefined && { interval }),
    ...(period !== undefined && { period }),
  });
}

/** Parameters of a {@link signalOrders} node. */
export type SignalOrderParams = { readonly symbol: string; readonly quantity: number };

/** Options of {@link signalOrders}. */
export interface SignalOrdersOptions {
  readonly symbol: string;
  /** Position size when the signal is long or short; > 0. */
  readonly quantity: number;
  /** Default: the signal's interval, else the strategy default. */
  readonly interval?: IntervalLike;
  /** Default `signal_orders_<symbol>`. */
  readonly name?: string;
}

/**
 * An order node that holds `quantity` long while `signal` is positive, `quantity` short while it
 * is negative, and nothing at 0 (+1 / −1 / 0). It emits a {@link TargetPosition} every bucket;
 * the {@link OrderRouter} trades only the difference from what the node already holds, so a
 * repeated signal places no order and a flip from +1 to −1 sells `2 × quantity`.
 *
 * @example
 * const orders = signalOrders(crossover, { symbol: 'BTC', quantity: 0.5 });
 */
export function signalOrders(signal: Node, options: SignalOrdersOptions): TradeOrderNode<SignalOrderParams> {
  const { symbol, quantity, name } = options;
  checkSymbol(symbol, 'signalOrders()');
  const interval = options.interval ?? intervalOf(signal);
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `signalOrders(): quantity must be a finite number > 0, got ${quote(quantity)}`,
    );
  }
  return new TradeOrderNode<SignalOrderParams>({
    input: signal,
    name: name ?? `signal_orders_${symbol}`,
    period: 1,
    params: { symbol, quantity },
    computeFn: signalTarget,
    ...(interval !== undefined && { interval }),
  });
}

/** The compute function of {@link signalOrders}: the sign of the newest signal times the size. */
function signalTarget(view: CacheView<SignalOrderParams>): TargetPosition {
  const signal = view.input<unknown>().latest();
  if (typeof signal !== 'number' || Number.isNaN(signal)) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `signalOrders ${quote(view.params.symbol)}: the signal must be a number (+1 long, -1 short, 0 flat), got ${quote(signal)}`,
    );
  }
  // `+ 0` turns -0 into 0, so a flat target prints as 0 in reports.
  return { symbol: view.params.symbol, target: Math.sign(signal) * view.params.quantity + 0, tag: 'signal' };
}

/** The interval of the (first) input when it is set, so an order node follows its signal's bars. */
function intervalOf(input: Node | readonly Node[]): number | undefined {
  const first = Array.isArray(input) ? (input as readonly Node[])[0] : (input as Node);
  return first?.interval ?? undefined;
}

function checkSymbol(symbol: unknown, what: string): void {
  if (typeof symbol !== 'string' || symbol.trim() === '')
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: symbol must be a non-empty string, got ${quote(symbol)}`,
    );
}
