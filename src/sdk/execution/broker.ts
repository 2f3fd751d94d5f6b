import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { isRecord } from '../../common/is-record.js';
import { OrderType, type OrderRequest, type OrderSide } from './order.js';

/** Where an order came from: the bucket (epoch seconds) and the node that emitted it. */
export interface OrderContext {
  readonly bucket: number;
  readonly nodeId: string;
}

/** A broker's answer to a submission. `orderId` is the broker's id for the order. */
export interface OrderAck {
  readonly orderId: string;
  readonly status: 'accepted' | 'rejected';
  readonly reason?: string;
}

/** One price bar of a symbol; `ts` is the bar's bucket (epoch seconds). */
export interface Bar {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume?: number;
}

/**
 * Where an order is: `accepted` (working), `rejected`, `filled`, or `unknown` when the broker
 * could not be reached and the venue may or may not hold it.
 */
export type OrderStatus = 'accepted' | 'rejected' | 'filled' | 'unknown';

/** An order as the report lists it: the request, where it came from, and its fate. */
export interface OrderRecord {
  readonly orderId: string;
  readonly bucket: number;
  readonly nodeId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: number;
  readonly type: OrderType;
  readonly limitPrice?: number;
  readonly tag?: string;
  readonly status: OrderStatus;
  readonly reason?: string;
}

/** One execution: `price` includes slippage; `fee` is charged on top; `realizedPnl` excludes fees. */
export interface Fill {
  readonly orderId: string;
  readonly ts: number;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: number;
  readonly price: number;
  readonly fee: number;
  readonly realizedPnl: number;
}

/** A holding: signed quantity (< 0 short), average entry price, PnL excluding fees. */
export interface Position {
  readonly quantity: number;
  readonly averagePrice: number;
  /** The last close seen, or the last fill price before any bar. */
  readonly lastPrice: number;
  readonly realizedPnl: number;
  readonly unrealizedPnl: number;
}

/**
 * What a run traded, in one format for backtests, dry-runs and live runs. Plain JSON: the same
 * inputs give byte-identical `JSON.stringify(report)`. Fees are reported apart from PnL, so
 * `equity = initial cash + realizedPnl + unrealizedPnl − fees`.
 */
export interface ExecutionReport {
  readonly orders: OrderRecord[];
  readonly fills: Fill[];
  /** By symbol, sorted by symbol. */
  readonly positions: Record<string, Position>;
  readonly cash: number;
  readonly realizedPnl: number;
  readonly unrealizedPnl: number;
  /** Cash plus every position marked at its last price. */
  readonly equity: number;
  /** `[ts, equity]` after each bar time at which any symbol had a bar. */
  readonly equityCurve: Array<[number, number]>;
  readonly fees: number;
}

/**
 * The port the {@link OrderRouter} sends orders to (SPEC §3.5): a simulated broker for backtests
 * and dry-runs ({@link PaperBroker}), a venue adapter for live runs ({@link HttpBroker}).
 * Adapters pass `testBrokerContract`.
 */
export interface Broker {
  /** Places an order; resolves with the broker's answer. Rejects only when the outcome is unknown. */
  submit(order: OrderRequest, context: OrderContext): Promise<OrderAck>;
  /** Price update of a symbol; simulated brokers fill working orders here. */
  onBar?(symbol: string, bar: Bar): void;
  /** What the broker saw so far; a fresh plain object each call. */
  report(): ExecutionReport;
  /** Releases what the broker holds; it takes no orders afterwards. */
  close(): Promise<void>;
}

/** @internal The report entry of an order: the request with defaults, where it came from, its fate. */
export function orderRecord(
  orderId: string,
  order: OrderRequest,
  context: OrderContext,
  status: OrderStatus,
  reason = '',
): OrderRecord {
  const { symbol, side, quantity, limitPrice, tag } = order;
  return {
    orderId,
    bucket: context.bucket,
    nodeId: context.nodeId,
    symbol,
    side,
    quantity,
    type: order.type ?? OrderType.Market,
    ...(limitPrice !== undefined && { limitPrice }),
    ...(tag !== undefined && { tag }),
    status,
    ...(reason !== '' && { reason }),
  };
}

/**
 * Turns a price row (`{ts, open, high, low, close, volume?}`) into a {@link Bar}. A row with only
 * `close` gets `open = high = low = close`; missing `high`/`low` are the max/min of open and close.
 * @param ts the bar time to use instead of `row.ts` (the Runner passes the bucket).
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` when there is no finite `close` or time, a given
 * price is not finite, or the bar is inconsistent (`low > high`, `open` or `close` outside [low, high]).
 */
export function toBar(row: unknown, ts?: number): Bar {
  if (!isRecord(row))
    throw new QmtlError(ErrorCode.InvalidArgument, `a price bar must be an object, got ${quote(row)}`);
  const time = ts ?? row['ts'];
  const close = row['close'];
  if (typeof time !== 'number' || !Number.isFinite(time))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `price bar ${quote(row)}: ts must be a finite number, got ${quote(time)}`,
    );
  if (typeof close !== 'number' || !Number.isFinite(close))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `price bar ${quote(row)}: close must be a finite number, got ${quote(close)}`,
    );
  const open = optionalPrice(row, 'open') ?? close;
  const high = optionalPrice(row, 'high') ?? Math.max(open, close);
  const low = optionalPrice(row, 'low') ?? Math.min(open, close);
  const problem = inconsistency({ open, high, low, close });
  if (problem !== null)
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `price bar ${quote(row)} is not a consistent bar: ${problem}`,
    );
  const volume = optionalPrice(row, 'volume');
  return { ts: time, open, high, low, close, ...(volume !== undefined && { volume }) };
}

/**
 * What makes a bar inconsistent (`low` above `high`, `open` or `close` outside [low, high]), as
 * indicators refuse it, or null: a fill at such a bar's prices would be one the market never offered.
 */
function inconsistency(bar: Pick<Bar, 'open' | 'high' | 'low' | 'close'>): string | null {
  const { high, low } = bar;
  if (low > high) return `low ${low} is above high ${high}`;
  for (const field of ['open', 'close'] as const) {
    const value = bar[field];
    if (value < low || value > high) return `${field} ${value} is outside [low ${low}, high ${high}]`;
  }
  return null;
}

function optionalPrice(row: Record<string, unknown>, field: string): number | undefined {
  const value = row[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `price bar ${quote(row)}: ${field} must be a finite number, got ${quote(value)}`,
    );
  return value;
}
