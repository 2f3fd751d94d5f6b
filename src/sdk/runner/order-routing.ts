import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { Broker, ExecutionReport } from '../execution/broker.js';
import { OrderRouter } from '../execution/order-router.js';
import { PaperBroker, type PaperBrokerOptions } from '../execution/paper-broker.js';
import { TradeOrderNode } from '../execution/trade-order-node.js';
import { listenToEmits } from './emit-listeners.js';
import type { StreamInput } from '../stream-input.js';
import type { ExecutionGraph } from './execution-graph.js';
import type { NodeRuntime } from './node-runtime.js';
import { RunMode } from './run-options.js';

/** Where a run's orders go and which streams price them. */
export interface OrderRoutingOptions {
  readonly mode: RunMode;
  /** Live: the venue (required when the run has order nodes). Other modes: ignored. */
  readonly broker: Broker | null;
  /** Fees, slippage and cash of the simulated (backtest, offline) and paper (dry-run) broker. */
  readonly paper: PaperBrokerOptions;
  /** Symbol of each price stream; default: a stream's first tag. */
  readonly priceStreams: ReadonlyMap<StreamInput, string> | null;
  /** Live: what the venue already holds, by symbol; the books of the nodes trading them start there. */
  readonly positions: ReadonlyMap<string, number>;
}

/** A run's order routing, attached to the graph. */
export interface OrderRouting {
  readonly router: OrderRouter;
  /**
   * Starts routing outputs of the buckets that end after `from` (the bucket holding it, and
   * later ones). Live runs call it after the warm-up with their start time: orders of earlier
   * buckets (the warm-up's, or a consumed order node's topic read from its beginning) must not
   * reach a broker.
   */
  attach(from?: number): void;
  /** Flushes and closes the broker. */
  close(): Promise<void>;
  report(): ExecutionReport;
}

/**
 * Sends the outputs of the run's {@link TradeOrderNode}s to a broker (SPEC §3.5): a simulated paper
 * broker in backtests and dry-runs (same report format), the given venue in live runs. Bars of the
 * price streams reach the broker before the orders of the same bucket. Null when the run has no
 * order node.
 */
export function orderRouting(graph: ExecutionGraph, options: OrderRoutingOptions): OrderRouting | null {
  const orderNodes = graph.order.filter((runtime) => runtime.node instanceof TradeOrderNode);
  const startPositions = positionOwners(orderNodes, options.positions);
  if (orderNodes.length === 0) return null;
  if (options.mode === RunMode.Live && options.broker === null)
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `a live run with order nodes (${orderNodes.map((r) => quote(r.node.name)).join(', ')}) needs a broker; pass broker (e.g. new HttpBroker({ url }))`,
    );
  const priceStreams: Array<[NodeRuntime, string]> = [];
  for (const runtime of graph.sources) {
    const stream = runtime.node as StreamInput;
    const symbol = options.priceStreams?.get(stream) ?? stream.tags[0];
    if (symbol !== undefined) priceStreams.push([runtime, symbol]);
  }
  if (options.mode !== RunMode.Live)
    checkPriced(orderNodes, new Set(priceStreams.map(([, symbol]) => symbol)));
  const broker = options.mode === RunMode.Live ? options.broker! : new PaperBroker(options.paper);
  const router = new OrderRouter(broker);
  for (const [symbol, { runtime, quantity }] of startPositions)
    router.startPosition(runtime.id, symbol, quantity);
  for (const [runtime, symbol] of priceStreams) router.priceStream(runtime.id, symbol);
  let attached = false;
  return {
    router,
    attach(from = -Infinity) {
      if (attached) return;
      attached = true;
      for (const runtime of graph.sources)
        listenToEmits(runtime, (bucket, row) => {
          if (bucket + runtime.interval > from) void router.onStreamOutput(runtime.id, bucket, row);
        });
      for (const runtime of orderNodes)
        listenToEmits(runtime, (bucket, value) => {
          if (bucket + runtime.interval > from) void router.onOrders(bucket, runtime.node, value);
        });
    },
    close: () => router.close(),
    report: () => router.report(),
  };
}

/**
 * A simulated broker fills an order only on a bar of its symbol, so an order node trading a symbol
 * no price stream carries (a misspelt symbol, or one that is not the stream's first tag) would
 * place orders that never fill. @throws QmtlError naming the node, its symbol and the price streams.
 */
function checkPriced(orderNodes: readonly NodeRuntime[], priced: ReadonlySet<string>): void {
  for (const runtime of orderNodes) {
    const symbol = (runtime.node as TradeOrderNode).symbol;
    if (symbol === null || priced.has(symbol)) continue;
    const streams = [...priced].map((s) => quote(s)).join(', ') || 'none';
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `order node ${quote(runtime.node.name)} trades ${quote(symbol)}, which no price stream of the run carries, so its orders could never fill (price streams: ${streams}); a stream carries the symbol of its first tag, or the one priceStreams gives it`,
    );
  }
}

/**
 * The order node whose book each starting position belongs to: the one node of the run whose
 * `symbol` it is. @throws QmtlError when no node, or more than one, trades a symbol given.
 */
function positionOwners(
  orderNodes: readonly NodeRuntime[],
  positions: ReadonlyMap<string, number>,
): Map<string, { runtime: NodeRuntime; quantity: number }> {
  const names = (runtimes: readonly NodeRuntime[]): string =>
    runtimes.map((r) => quote(r.node.name)).join(', ') || 'none';
  const owners = new Map<string, { runtime: NodeRuntime; quantity: number }>();
  for (const [symbol, quantity] of positions) {
    const traders = orderNodes.filter((runtime) => (runtime.node as TradeOrderNode).symbol === symbol);
    if (traders.length === 1) {
      owners.set(symbol, { runtime: traders[0]!, quantity });
      continue;
    }
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      traders.length === 0
        ? `positions.${symbol}: no order node of the run trades ${quote(symbol)} (order nodes: ${names(orderNodes)})`
        : `positions.${symbol}: ${quote(symbol)} is traded by several order nodes (${names(traders)}), whose books a position cannot be split between`,
    );
  }
  return owners;
}
