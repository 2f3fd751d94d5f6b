import type { Bar, ExecutionReport, Fill, OrderRecord, Position } from './broker.js';
import type { OrderSide } from './order.js';

interface Holding {
  quantity: number;
  averagePrice: number;
  realizedPnl: number;
  /** Price of the last fill, the mark until the symbol has a bar. */
  lastFillPrice: number;
}

/** The account part of an {@link ExecutionReport}. */
export type LedgerSnapshot = Omit<ExecutionReport, 'orders' | 'fills'>;

/**
 * Positions, cash, PnL and the equity curve of one account, from fills and marks. Average-price
 * accounting: adding to a position moves its average price; reducing it realises
 * `(price − averagePrice) × closed quantity` (negated for shorts); going through zero closes the
 * old side and opens the rest at the fill price. Fees are cash, never PnL.
 *
 * @example
 * const ledger = new Ledger(1000);
 * ledger.fill('BTC', 'buy', 2, 100, 0.2); // cash 799.8
 * ledger.fill('BTC', 'sell', 2, 110, 0.22); // realized 20
 */
export class Ledger {
  readonly #holdings = new Map<string, Holding>();
  /** Last close per symbol. */
  readonly #marks = new Map<string, number>();
  readonly #curve: Array<[number, number]> = [];
  #cash: number;
  #realized = 0;
  #fees = 0;

  constructor(initialCash: number) {
    this.#cash = initialCash;
  }

  /** Applies an execution; returns the PnL it realised (fees excluded). */
  fill(symbol: string, side: OrderSide, quantity: number, price: number, fee: number): number {
    const holding = this.#holding(symbol);
    const signed = side === 'buy' ? quantity : -quantity;
    const held = holding.quantity;
    let realized = 0;
    if (held === 0 || Math.sign(held) === Math.sign(signed)) {
      holding.averagePrice =
        (Math.abs(held) * holding.averagePrice + quantity * price) / (Math.abs(held) + quantity);
    } else {
      const closed = Math.min(quantity, Math.abs(held));
      // `+ 0` turns -0 into 0: JSON has no -0, and reports must survive a JSON round trip.
      realized = closed * (price - holding.averagePrice) * Math.sign(held) + 0;
      if (quantity > closed) holding.averagePrice = price;
    }
    holding.quantity = snapToZero(held + signed, quantity);
    if (holding.quantity === 0) holding.averagePrice = 0;
    holding.realizedPnl += realized;
    holding.lastFillPrice = price;
    this.#realized += realized;
    this.#cash += -signed * price - fee;
    this.#fees += fee;
    return realized;
  }

  /** Records the latest price of a symbol (its unrealised PnL is marked there). */
  mark(symbol: string, price: number): void {
    this.#marks.set(symbol, price);
  }

  /** Adds `[ts, equity]` to the curve; a point at the same `ts` as the last one replaces it. */
  recordEquity(ts: number): void {
    const point: [number, number] = [ts, this.equity];
    if (this.#curve.at(-1)?.[0] === ts) this.#curve[this.#curve.length - 1] = point;
    else this.#curve.push(point);
  }

  /** Cash plus every position at its last price. */
  get equity(): number {
    let equity = this.#cash;
    for (const [symbol, holding] of this.#holdings)
      equity += holding.quantity * this.#lastPrice(symbol, holding);
    return equity;
  }

  /** Marks `symbol` at the bar's close and adds a point to the equity curve. */
  markBar(symbol: string, bar: Bar): void {
    this.mark(symbol, bar.close);
    this.recordEquity(bar.ts);
  }

  /** The report of a broker with these orders and fills on this account (fresh plain copies). */
  report(orders: readonly OrderRecord[], fills: readonly Fill[]): ExecutionReport {
    return {
      orders: orders.map((order) => ({ ...order })),
      fills: fills.map((fill) => ({ ...fill })),
      ...this.snapshot(),
    };
  }

  /** A fresh plain copy of the account, positions sorted by symbol. */
  snapshot(): LedgerSnapshot {
    const positions: Record<string, Position> = {};
    let unrealizedPnl = 0;
    for (const symbol of [...this.#holdings.keys()].sort()) {
      const holding = this.#holdings.get(symbol)!;
      const { quantity, averagePrice, realizedPnl } = holding;
      const lastPrice = this.#lastPrice(symbol, holding);
      const unrealized = quantity === 0 ? 0 : quantity * (lastPrice - averagePrice) + 0;
      unrealizedPnl += unrealized;
      positions[symbol] = { quantity, averagePrice, lastPrice, realizedPnl, unrealizedPnl: unrealized };
    }
    return {
      positions,
      cash: this.#cash,
      realizedPnl: this.#realized,
      unrealizedPnl,
      equity: this.equity,
      equityCurve: this.#curve.map(([ts, equity]): [number, number] => [ts, equity]),
      fees: this.#fees,
    };
  }

  #lastPrice(symbol: string, holding: Holding): number {
    return this.#marks.get(symbol) ?? holding.lastFillPrice;
  }

  #holding(symbol: string): Holding {
    let holding = this.#holdings.get(symbol);
    if (!holding) {
      holding = { quantity: 0, averagePrice: 0, realizedPnl: 0, lastFillPrice: 0 };
      this.#holdings.set(symbol, holding);
    }
    return holding;
  }
}

/** Float residue such as 0.1 + 0.2 − 0.3 must not leave a dust position open. */
function snapToZero(quantity: number, scale: number): number {
  return Math.abs(quantity) < 1e-12 * Math.max(1, scale) ? 0 : quantity;
}
