import { ErrorCode, QmtlError, quote, shortId } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { formatTime } from '../../common/time.js';
import { toBar, type Bar, type Broker, type ExecutionReport } from './broker.js';
import { executionMetrics } from './execution-metrics.js';
import { isTargetPosition, OrderType, validateIntent, type OrderIntent, type OrderRequest } from './order.js';

/** What became of one call's items. `unchanged`: target positions the node already held. */
export interface RoutingSummary {
  accepted: number;
  rejected: number;
  invalid: number;
  failed: number;
  unchanged: number;
  /** Orders of a bucket older than one already routed for the node (a late recompute): not sent. */
  late: number;
  /**
   * Plain orders of a recompute of a bucket whose plain orders the node already placed (e.g. a
   * 5-minute order node recomputed as each minute arrives): not sent again.
   */
  repeated: number;
}

/** A summary with every count at 0. */
function emptySummary(): RoutingSummary {
  return { accepted: 0, rejected: 0, invalid: 0, failed: 0, unchanged: 0, late: 0, repeated: 0 };
}

/** Totals since the router was made, plus price rows that were not valid bars. */
export interface RouterStats extends RoutingSummary {
  invalidBars: number;
}

/** A node, or its id: the router only needs the id, and uses the name in log lines. */
export type OrderSource = string | { readonly nodeId: string; readonly name: string };

/**
 * The glue between a run and a {@link Broker} (SPEC §3.5): the Runner hands it each
 * {@link TradeOrderNode} output and each price bar, and it validates, serialises and forwards them.
 *
 * - Bars and orders reach the broker in the order the router was given them, whether or not the
 *   caller awaits, so a replay is deterministic.
 * - An invalid item is counted, logged and metered, never thrown: the rest of the output still goes.
 * - A node's outputs for one bucket trade once: a recompute of the newest bucket (late data, or a
 *   coarser node recomputed as finer bars arrive) sends its target positions again, which trade
 *   only what changed, but not its plain orders, which the first output of the bucket placed.
 *   A recompute of an older bucket sends nothing.
 * - A {@link TargetPosition} becomes the market order for `target − book`, where the book is the
 *   signed sum of the node's accepted orders in that symbol (not fills, so an order still working
 *   is not sent twice). Each node keeps its own book: two nodes trading one symbol do not net.
 *
 * @example
 * const router = new OrderRouter(new PaperBroker({ feeBps: 5 }));
 * router.priceStream(price.nodeId, 'BTC');
 * void router.onStreamOutput(price.nodeId, bucket, row); // for each price row
 * void router.onOrders(bucket, orders, output); // for each TradeOrderNode output
 * await router.flush();
 * console.log(JSON.stringify(router.report()));
 */
export class OrderRouter {
  readonly #broker: Broker;
  readonly #symbols = new Map<string, string>();
  readonly #book = new Map<string, number>();
  /** The newest bucket whose orders each node had routed. */
  readonly #newest = new Map<string, number>();
  /** The newest bucket in which each node placed plain orders: a bucket's plain orders go once. */
  readonly #placed = new Map<string, number>();
  readonly #stats: RouterStats = { ...emptySummary(), invalidBars: 0 };
  #tail: Promise<unknown> = Promise.resolve();

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  /** Declares that `streamNodeId`'s rows are the price bars of `symbol`. */
  priceStream(streamNodeId: string, symbol: string): this {
    if (
      typeof streamNodeId !== 'string' ||
      streamNodeId === '' ||
      typeof symbol !== 'string' ||
      symbol === ''
    ) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `priceStream needs a stream node id and a symbol, got ${quote(streamNodeId)} and ${quote(symbol)}`,
      );
    }
    this.#symbols.set(streamNodeId, symbol);
    return this;
  }

  /** The symbol a stream carries, or null when it is not a price stream. */
  symbolOf(streamNodeId: string): string | null {
    return this.#symbols.get(streamNodeId) ?? null;
  }

  /** Forwards a stream's row as a bar at `bucket` when the stream is a price stream; else null. */
  onStreamOutput(streamNodeId: string, bucket: number, row: unknown): Promise<void> | null {
    const symbol = this.#symbols.get(streamNodeId);
    return symbol === undefined ? null : this.#forwardBar(symbol, row, bucket, streamNodeId);
  }

  /**
   * Forwards a price row (`{ts, open, high, low, close, volume?}`) to the broker as a bar. The bar
   * time is `bucket` when given (what orders' buckets are compared with), else `row.ts`.
   */
  onBar(symbol: string, row: unknown, bucket?: number): Promise<void> {
    return this.#forwardBar(symbol, row, bucket, null);
  }

  /**
   * Forwards a row to the broker as a bar. A row that is not a consistent bar is skipped: it fills
   * and marks nothing, and is counted and logged with its stream, bucket and fields.
   */
  #forwardBar(
    symbol: string,
    row: unknown,
    bucket: number | undefined,
    stream: string | null,
  ): Promise<void> {
    let bar: Bar;
    try {
      bar = toBar(row, bucket);
    } catch (error) {
      this.#stats.invalidBars += 1;
      executionMetrics.invalidBarsTotal.inc();
      logger.warn(
        { symbol, ...(stream !== null && { stream }), bucket, err: error },
        'execution.invalid_bar',
      );
      return Promise.resolve();
    }
    return this.#enqueue(() => {
      try {
        this.#broker.onBar?.(symbol, bar);
      } catch (error) {
        executionMetrics.brokerErrorsTotal.inc();
        logger.error({ symbol, bar, err: error }, 'execution.bar_failed');
      }
    });
  }

  /**
   * Validates an order node's output (an order or target position, an array of them, or null) and
   * submits the valid items in order. Resolves when the broker has answered all of them.
   */
  onOrders(bucket: number, source: OrderSource, value: unknown): Promise<RoutingSummary> {
    if (!Number.isFinite(bucket))
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `onOrders: bucket must be a finite number, got ${quote(bucket)}`,
      );
    const nodeId = typeof source === 'string' ? source : source.nodeId;
    const label =
      typeof source === 'string' ? `node ${quote(shortId(nodeId))}` : `node ${quote(source.name)}`;
    const items = value == null ? [] : Array.isArray(value) ? (value as unknown[]) : [value];
    const summary = emptySummary();
    const intents: OrderIntent[] = [];
    items.forEach((item, index) => {
      const where = `${label} at bucket ${formatTime(bucket)}: ${Array.isArray(value) ? `order[${index}]` : 'order'}`;
      try {
        intents.push(validateIntent(item, where));
      } catch (error) {
        this.#count(summary, 'invalid');
        logger.warn({ nodeId, bucket, err: error }, 'execution.invalid_order');
      }
    });
    if (intents.length === 0) return Promise.resolve(summary);
    // A recompute of an older bucket (late data in a live run) must not trade in the past.
    if (bucket < (this.#newest.get(nodeId) ?? -Infinity)) {
      intents.forEach(() => this.#count(summary, 'late'));
      logger.warn({ nodeId, bucket, orders: intents.length }, 'execution.late_orders_dropped');
      return Promise.resolve(summary);
    }
    this.#newest.set(nodeId, bucket);
    // A recompute of the bucket re-sends its targets (only the difference trades), not its orders.
    const placedAlready = this.#placed.get(nodeId) === bucket;
    const routed: OrderIntent[] = [];
    for (const intent of intents) {
      if (placedAlready && !isTargetPosition(intent)) this.#count(summary, 'repeated');
      else routed.push(intent);
    }
    if (routed.some((intent) => !isTargetPosition(intent))) this.#placed.set(nodeId, bucket);
    return this.#enqueue(async () => {
      for (const intent of routed) await this.#route(intent, bucket, nodeId, summary);
      return summary;
    });
  }

  /** Resolves once every bar and order handed over so far has reached the broker. */
  async flush(): Promise<void> {
    await this.#tail;
  }

  /** The broker's report. Call {@link flush} first to include everything handed over. */
  report(): ExecutionReport {
    return this.#broker.report();
  }

  /** Totals since the router was made. */
  get stats(): RouterStats {
    return { ...this.#stats };
  }

  /**
   * Sets what `nodeId` already holds in `symbol` before its first order (a live run restarting
   * with an open position): its target positions trade the difference from there.
   */
  startPosition(nodeId: string, symbol: string, quantity: number): this {
    if (!Number.isFinite(quantity))
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `startPosition: quantity of ${quote(symbol)} must be a finite number, got ${quote(quantity)}`,
      );
    this.#book.set(bookKey(nodeId, symbol), quantity);
    return this;
  }

  /** The signed quantity of `symbol` that `nodeId`'s accepted orders add up to (from its start position). */
  position(nodeId: string, symbol: string): number {
    return this.#book.get(bookKey(nodeId, symbol)) ?? 0;
  }

  /** Flushes, then closes the broker. */
  async close(): Promise<void> {
    await this.flush();
    await this.#broker.close();
  }

  async #route(intent: OrderIntent, bucket: number, nodeId: string, summary: RoutingSummary): Promise<void> {
    const key = bookKey(nodeId, intent.symbol);
    const held = this.#book.get(key) ?? 0;
    const order = isTargetPosition(intent)
      ? orderTowards(intent.symbol, intent.target - held, intent.tag)
      : intent;
    if (order === null) {
      this.#count(summary, 'unchanged');
      return;
    }
    try {
      const ack = await this.#broker.submit(order, { bucket, nodeId });
      if (ack.status === 'accepted') {
        this.#book.set(key, held + (order.side === 'buy' ? order.quantity : -order.quantity));
      } else {
        logger.warn({ nodeId, bucket, order, reason: ack.reason }, 'execution.order_rejected');
      }
      this.#count(summary, ack.status);
    } catch (error) {
      this.#count(summary, 'failed');
      executionMetrics.brokerErrorsTotal.inc();
      logger.error({ nodeId, bucket, order, err: error }, 'execution.order_failed');
    }
  }

  #count(summary: RoutingSummary, outcome: keyof RoutingSummary): void {
    summary[outcome] += 1;
    this.#stats[outcome] += 1;
    if (outcome !== 'unchanged') executionMetrics.ordersTotal.inc({ outcome });
  }

  /**
   * Runs `task` after everything enqueued before it. Tasks catch their own errors, so the promise
   * never rejects and a caller may drop it (`void router.onBar(...)`) without an unhandled rejection.
   */
  #enqueue<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run;
    return run;
  }
}

function bookKey(nodeId: string, symbol: string): string {
  return `${nodeId}\u0000${symbol}`;
}

/** The market order for a signed change of position, or null when there is nothing to trade. */
function orderTowards(symbol: string, delta: number, tag = 'target'): OrderRequest | null {
  // Float residue of earlier arithmetic must not place a dust order.
  if (Math.abs(delta) < 1e-12) return null;
  return { symbol, side: delta > 0 ? 'buy' : 'sell', quantity: Math.abs(delta), type: OrderType.Market, tag };
}
