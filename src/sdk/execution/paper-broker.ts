import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { isRecord } from '../../common/is-record.js';
import {
  orderRecord,
  type Bar,
  type Broker,
  type ExecutionReport,
  type Fill,
  type OrderAck,
  type OrderContext,
  type OrderRecord,
  type OrderStatus,
} from './broker.js';
import { Ledger } from './ledger.js';
import { OrderType, orderProblems, type OrderRequest } from './order.js';

/** When a market order fills: at the open of the next bar (default) or at the close of its own bar. */
export const FillAt = { NextOpen: 'next_open', Close: 'close' } as const;
/** One of {@link FillAt}. */
export type FillAt = (typeof FillAt)[keyof typeof FillAt];

/** Options of {@link PaperBroker}. */
export interface PaperBrokerOptions {
  /** Fee per fill in basis points of its notional. Default 0. */
  readonly feeBps?: number;
  /** Price concession of market fills in basis points. Default 0. */
  readonly slippageBps?: number;
  /** Default 100 000. */
  readonly initialCash?: number;
  /** Default `'next_open'`. */
  readonly fillAt?: FillAt;
}

interface Working {
  readonly index: number;
  readonly order: OrderRecord;
}

const OPTION_KEYS = ['feeBps', 'slippageBps', 'initialCash', 'fillAt'];

/**
 * A simulated broker for backtests and dry-runs: records orders and fills them against the bars
 * it is given, deterministically (order ids count up: `paper-1`, `paper-2`, …).
 *
 * - A market order of bucket `t` fills at the open of the first bar of its symbol with
 *   `ts > t` (`fillAt: 'close'`: at the close of the first bar with `ts ≥ t`), at
 *   `price × (1 + s)` when buying and `price × (1 − s)` when selling, `s = slippageBps / 10 000`.
 * - A limit order fills at the first bar with `ts > t` whose range reaches the limit: a buy when
 *   `low ≤ limitPrice`, at `min(open, limitPrice)`; a sell when `high ≥ limitPrice`, at
 *   `max(open, limitPrice)`. No slippage: the limit is the worst price.
 * - Every fill pays `fee = quantity × price × feeBps / 10 000`. There is no margin model: cash
 *   may go negative, and shorting is always allowed.
 *
 * @example
 * const broker = new PaperBroker({ feeBps: 10, slippageBps: 5 });
 * await broker.submit({ symbol: 'BTC', side: 'buy', quantity: 1 }, { bucket: 60, nodeId });
 * broker.onBar('BTC', { ts: 120, open: 100, high: 101, low: 99, close: 100.5 }); // fills at 100.05
 * broker.report().positions['BTC']; // { quantity: 1, averagePrice: 100.05, ... }
 */
export class PaperBroker implements Broker {
  readonly #feeBps: number;
  readonly #slippageBps: number;
  readonly #fillAt: FillAt;
  readonly #ledger: Ledger;
  readonly #orders: OrderRecord[] = [];
  readonly #fills: Fill[] = [];
  readonly #working = new Map<string, Working[]>();
  readonly #lastBar = new Map<string, Bar>();
  #closed = false;

  constructor(options: PaperBrokerOptions = {}) {
    checkOptions(options);
    this.#feeBps = options.feeBps ?? 0;
    this.#slippageBps = options.slippageBps ?? 0;
    this.#fillAt = options.fillAt ?? FillAt.NextOpen;
    this.#ledger = new Ledger(options.initialCash ?? 100_000);
  }

  /**
   * Records the order; an invalid one is rejected with every problem as the reason. Rejects (never
   * throws) when closed or given a bad context.
   */
  submit(order: OrderRequest, context: OrderContext): Promise<OrderAck> {
    // A throw inside the executor becomes a rejection.
    return new Promise((resolve) => resolve(this.#submit(order, context)));
  }

  /** Fills the symbol's working orders this bar reaches, marks the symbol at the close, records equity. */
  onBar(symbol: string, bar: Bar): void {
    const queue = this.#working.get(symbol) ?? [];
    const left = queue.filter((working) => !this.#execute(working, bar));
    if (left.length > 0) this.#working.set(symbol, left);
    else this.#working.delete(symbol);
    this.#lastBar.set(symbol, bar);
    this.#ledger.markBar(symbol, bar);
  }

  /** Orders (working ones as `accepted`), fills and the account, as plain JSON. */
  report(): ExecutionReport {
    return this.#ledger.report(this.#orders, this.#fills);
  }

  /** Stops taking orders; working orders stay `accepted` in the report. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #submit(order: OrderRequest, context: OrderContext): OrderAck {
    checkContext(context, this.#closed);
    const orderId = `paper-${this.#orders.length + 1}`;
    const problems = orderProblems(order, 'order');
    const status: OrderStatus = problems.length > 0 ? 'rejected' : 'accepted';
    const reason = problems.map((p) => p.message).join('; ');
    const record = orderRecord(orderId, order, context, status, reason);
    this.#orders.push(record);
    if (status === 'rejected') return { orderId, status, reason };
    const working = { index: this.#orders.length - 1, order: record };
    const bar = this.#lastBar.get(record.symbol);
    // With fillAt 'close', a market order made after its own bar was seen fills at that close now;
    // every other order waits for a bar that comes after it.
    const fillsNow = this.#fillAt === FillAt.Close && record.type === OrderType.Market;
    if (fillsNow && bar !== undefined && bar.ts >= record.bucket) {
      this.#execute(working, bar);
      this.#ledger.recordEquity(bar.ts);
    } else {
      const queue = this.#working.get(record.symbol) ?? [];
      queue.push(working);
      this.#working.set(record.symbol, queue);
    }
    return { orderId, status };
  }

  /** Fills `working` on `bar` when the bar reaches it; returns whether it filled. */
  #execute(working: Working, bar: Bar): boolean {
    const { order } = working;
    const price = this.#fillPrice(order, bar);
    if (price === null) return false;
    const fee = (order.quantity * price * this.#feeBps) / 10_000;
    const realizedPnl = this.#ledger.fill(order.symbol, order.side, order.quantity, price, fee);
    const { orderId, symbol, side, quantity } = order;
    this.#fills.push({ orderId, ts: bar.ts, symbol, side, quantity, price, fee, realizedPnl });
    this.#orders[working.index] = { ...order, status: 'filled' };
    return true;
  }

  /** The price `order` fills at on `bar`, or null when the bar does not reach it. */
  #fillPrice(order: OrderRecord, bar: Bar): number | null {
    if (order.type === OrderType.Limit) {
      const limit = order.limitPrice!;
      if (bar.ts <= order.bucket) return null;
      if (order.side === 'buy') return bar.low <= limit ? Math.min(bar.open, limit) : null;
      return bar.high >= limit ? Math.max(bar.open, limit) : null;
    }
    const atClose = this.#fillAt === FillAt.Close;
    if (atClose ? bar.ts < order.bucket : bar.ts <= order.bucket) return null;
    const base = atClose ? bar.close : bar.open;
    // base ± base·bps/1e4 keeps round inputs exact (100 + 0.5), where base·(1 + 0.005) would not be.
    const slip = (base * this.#slippageBps) / 10_000;
    return order.side === 'buy' ? base + slip : base - slip;
  }
}

function checkContext(context: OrderContext, closed: boolean): void {
  if (closed)
    throw new QmtlError(ErrorCode.InvalidArgument, 'PaperBroker is closed; it takes no more orders');
  if (!isRecord(context) || !Number.isFinite(context.bucket) || typeof context.nodeId !== 'string') {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `PaperBroker.submit: context must be {bucket: number, nodeId: string}, got ${quote(context)}`,
    );
  }
}

function checkOptions(options: PaperBrokerOptions): void {
  if (!isRecord(options))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `PaperBroker options must be an object, got ${quote(options)}`,
    );
  const problems = Object.keys(options)
    .filter((key) => !OPTION_KEYS.includes(key))
    .map((key) => `unknown option ${quote(key)} (known: ${OPTION_KEYS.join(', ')})`);
  for (const key of ['feeBps', 'slippageBps'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0))
      problems.push(`${key} must be a finite number >= 0, got ${quote(value)}`);
  }
  const cash = options.initialCash;
  if (cash !== undefined && !(typeof cash === 'number' && Number.isFinite(cash)))
    problems.push(`initialCash must be a finite number, got ${quote(cash)}`);
  if (options.fillAt !== undefined && options.fillAt !== FillAt.NextOpen && options.fillAt !== FillAt.Close)
    problems.push(`fillAt must be "next_open" or "close", got ${quote(options.fillAt)}`);
  if (problems.length > 0)
    throw QmtlError.fromProblems(
      'invalid PaperBroker options',
      problems.map((message) => ({ code: ErrorCode.InvalidArgument, message })),
    );
}
