import { ErrorCode, QmtlError, quote, type Problem } from '../../common/errors.js';
import { isRecord } from '../../common/is-record.js';

/** Which way an order trades. */
export const OrderSide = { Buy: 'buy', Sell: 'sell' } as const;
/** One of {@link OrderSide}. */
export type OrderSide = (typeof OrderSide)[keyof typeof OrderSide];

/** How an order is priced: at the market, or no worse than `limitPrice`. */
export const OrderType = { Market: 'market', Limit: 'limit' } as const;
/** One of {@link OrderType}. */
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

/**
 * An order a {@link TradeOrderNode} asks for: trade `quantity` (> 0) of `symbol` on `side`.
 * `type` defaults to `'market'`; a `'limit'` order needs `limitPrice`.
 *
 * @example
 * const order: OrderRequest = { symbol: 'BTC', side: 'buy', quantity: 0.5, type: 'limit', limitPrice: 42_000 };
 */
export interface OrderRequest {
  readonly symbol: string;
  readonly side: OrderSide;
  readonly quantity: number;
  readonly type?: OrderType;
  readonly limitPrice?: number;
  /** Free-form label carried into the report, e.g. `'entry'`. */
  readonly tag?: string;
}

/**
 * A position a node wants to hold in `symbol` (signed: > 0 long, < 0 short, 0 flat). The
 * {@link OrderRouter} turns it into the market order that moves the node's book there, so a
 * compute function can ask for a position without knowing the current one.
 *
 * @example
 * const target: TargetPosition = { symbol: 'BTC', target: -2 };
 */
export interface TargetPosition {
  readonly symbol: string;
  readonly target: number;
  readonly tag?: string;
}

/** What an order node may emit per item: an order, or a target position. */
export type OrderIntent = OrderRequest | TargetPosition;

const ORDER_KEYS = ['symbol', 'side', 'quantity', 'type', 'limitPrice', 'tag'];
const TARGET_KEYS = ['symbol', 'target', 'tag'];

/**
 * Checks an order, returning a normalised copy (`type` filled in).
 * @param where names the value in messages, e.g. `node "orders" at bucket 60: order[1]`.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every problem, each naming field and value.
 * @example validateOrder({ symbol: 'BTC', side: 'buy', quantity: 1 }, 'order') // {..., type: 'market'}
 */
export function validateOrder(value: unknown, where: string): OrderRequest {
  const problems = orderProblems(value, where);
  if (problems.length > 0) throw QmtlError.fromProblems(`${where} is not a valid order`, problems);
  const order = value as OrderRequest;
  return {
    symbol: order.symbol,
    side: order.side,
    quantity: order.quantity,
    type: order.type ?? OrderType.Market,
    ...(order.limitPrice !== undefined && { limitPrice: order.limitPrice }),
    ...(order.tag !== undefined && { tag: order.tag }),
  };
}

/**
 * Checks one item of an order node's output: an {@link OrderRequest}, or a {@link TargetPosition}
 * when it has a `target` field.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every problem.
 */
export function validateIntent(value: unknown, where: string): OrderIntent {
  if (!isRecord(value) || !('target' in value)) return validateOrder(value, where);
  const problems = targetProblems(value, where);
  if (problems.length > 0) throw QmtlError.fromProblems(`${where} is not a valid target position`, problems);
  const { symbol, target, tag } = value as unknown as TargetPosition;
  return { symbol, target, ...(tag !== undefined && { tag }) };
}

/** True when `intent` is a target position rather than an order. */
export function isTargetPosition(intent: OrderIntent): intent is TargetPosition {
  return 'target' in intent;
}

/** Every problem of an order, without throwing (empty when valid). */
export function orderProblems(value: unknown, where: string): Problem[] {
  if (!isRecord(value))
    return [problem(`${where} must be an object like {symbol, side, quantity}, got ${quote(value)}`)];
  const problems = [...unknownKeys(value, ORDER_KEYS, where), ...symbolAndTag(value, where)];
  const { side, quantity, type, limitPrice } = value;
  if (side !== OrderSide.Buy && side !== OrderSide.Sell)
    problems.push(problem(`${where}: side must be "buy" or "sell", got ${quote(side)}`));
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0)
    problems.push(problem(`${where}: quantity must be a finite number > 0, got ${quote(quantity)}`));
  if (type !== undefined && type !== OrderType.Market && type !== OrderType.Limit)
    problems.push(problem(`${where}: type must be "market" or "limit", got ${quote(type)}`));
  if (type === OrderType.Limit && !isPositive(limitPrice))
    problems.push(
      problem(`${where}: a limit order needs limitPrice, a finite number > 0, got ${quote(limitPrice)}`),
    );
  if (type !== OrderType.Limit && limitPrice !== undefined)
    problems.push(
      problem(
        `${where}: limitPrice ${quote(limitPrice)} is only allowed on a limit order (type is ${quote(type ?? 'market')})`,
      ),
    );
  return problems;
}

function targetProblems(value: Record<string, unknown>, where: string): Problem[] {
  const problems = [...unknownKeys(value, TARGET_KEYS, where), ...symbolAndTag(value, where)];
  if (typeof value['target'] !== 'number' || !Number.isFinite(value['target']))
    problems.push(
      problem(
        `${where}: target must be a finite number (> 0 long, < 0 short, 0 flat), got ${quote(value['target'])}`,
      ),
    );
  return problems;
}

function symbolAndTag(value: Record<string, unknown>, where: string): Problem[] {
  const problems: Problem[] = [];
  if (typeof value['symbol'] !== 'string' || value['symbol'].trim() === '')
    problems.push(problem(`${where}: symbol must be a non-empty string, got ${quote(value['symbol'])}`));
  if (value['tag'] !== undefined && typeof value['tag'] !== 'string')
    problems.push(problem(`${where}: tag must be a string, got ${quote(value['tag'])}`));
  return problems;
}

function unknownKeys(value: Record<string, unknown>, known: readonly string[], where: string): Problem[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => problem(`${where}: unknown field ${quote(key)} (known: ${known.join(', ')})`));
}

function isPositive(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function problem(message: string): Problem {
  return { code: ErrorCode.InvalidArgument, message };
}
