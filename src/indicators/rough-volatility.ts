import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Realised volatility of a price series: the population standard deviation of its last `period`
 * log returns r_t = ln(x_t / x_{t−1}), i.e. √(Σ (r − r̄)² / period). Not annualised. Warm-up
 * `period + 1` (the first return needs two prices). Inputs must be positive prices.
 *
 * Each return is taken as `ln(1 + (x_t − x_{t−1})/x_{t−1})` (`Math.log1p`; `ln(x_t/x_{t−1})` for a
 * fall below half): the difference of two nearby prices is exact, where `ln(x_t/x_{t−1})` would
 * start from a quotient rounded to ε and so lose the low digits of a small return (1e-10 relative
 * on prices near 1e5 moving by cents).
 * `period` identical returns (a flat or steadily growing series, and every window of period 1)
 * give exactly 0.
 *
 * The returns sit in a `Float64Array` ring; Σ r and Σ r² over it are slid in double-double
 * arithmetic (about 32 significant digits, with each r² split exactly into two doubles), so
 * `period·Σ r² − (Σ r)²` keeps full double precision even when the window's spread is tiny next to
 * its returns, and nothing drifts however long the stream runs. (A Welford slide of the mean and
 * squared deviations in plain doubles loses ~ε·r/σ per step: 7e-8 on 1% returns with 1e-9 noise.)
 *
 * The original qmtl called this `rough_bergami` (sic), with the same definition.
 *
 * @example
 * const vol = new RoughVolatility(2);
 * [100, 110, 99, 99].map((x) => vol.update(x)); // [null, null, 0.1003…, 0.0526…]
 */
export class RoughVolatility implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly period: number;
  /** The last `period` log returns. */
  private readonly returns: Float64Array;
  /** Prices seen since construction or `reset()`. */
  private count = 0;
  /** The ring slot the next return goes to; once full it holds the oldest return. */
  private next = 0;
  private lastPrice = 0;
  /** How many of the newest returns are equal (1 for a return unlike the one before). */
  private run = 0;
  /** Σ r and Σ r² over the ring, each a double-double: high + low. */
  private sumHigh = 0;
  private sumLow = 0;
  private squaresHigh = 0;
  private squaresLow = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousLastPrice = 0;
  private previousRun = 0;
  private previousSumHigh = 0;
  private previousSumLow = 0;
  private previousSquaresHigh = 0;
  private previousSquaresLow = 0;
  private previousEvicted = 0;
  private previousResult: number | null = null;

  /** @param period the number of log returns; a positive integer. */
  constructor(period = 20) {
    this.period = assertPeriod('RoughVolatility', period);
    this.warmupPeriod = this.period + 1;
    this.returns = new Float64Array(this.period);
  }

  /** The latest volatility, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period + 1` prices have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next price and returns the new volatility (or `null` while warming up). */
  update(price: number): number | null {
    assertPrice(price);
    const { period } = this;
    this.previousLastPrice = this.lastPrice;
    this.previousRun = this.run;
    this.previousSumHigh = this.sumHigh;
    this.previousSumLow = this.sumLow;
    this.previousSquaresHigh = this.squaresHigh;
    this.previousSquaresLow = this.squaresLow;
    this.previousEvicted = this.returns[this.next]!;
    this.previousResult = this.current;
    this.count += 1;
    const last = this.lastPrice;
    this.lastPrice = price;
    if (this.count === 1) return this.current;
    // ln(1 + (x − y)/y): x − y is exact for nearby prices, where ln(x/y) would start from x/y
    // rounded to ε, i.e. lose the digits of a small return (1e-10 relative at 1e5 moving by cents).
    // Below half the last price ln(x/y) is well conditioned and 1 + (x − y)/y no longer is.
    const change = price - last;
    const value = change > -0.5 * last ? Math.log1p(change / last) : Math.log(price / last);
    const newest = this.returns[this.next === 0 ? period - 1 : this.next - 1];
    this.run = this.count > 2 && value === newest ? this.run + 1 : 1;
    this.add(value, 1);
    if (this.count > period + 1) this.add(this.previousEvicted, -1);
    this.returns[this.next] = value;
    this.next = this.next + 1 === period ? 0 : this.next + 1;
    if (this.count <= period) return this.current;
    // Identical returns: exactly 0, where the slid sums could keep a residue of ~1e-32 of earlier ones.
    this.current = this.run >= period ? 0 : Math.sqrt(this.variance());
    return this.current;
  }

  /** Replaces the newest price (a late correction) and returns the recomputed volatility. */
  replace(price: number): number | null {
    assertPrice(price);
    if (this.count === 0) return this.update(price);
    if (this.count > 1) {
      this.next = this.next === 0 ? this.period - 1 : this.next - 1;
      this.returns[this.next] = this.previousEvicted;
    }
    this.count -= 1;
    this.lastPrice = this.previousLastPrice;
    this.run = this.previousRun;
    this.sumHigh = this.previousSumHigh;
    this.sumLow = this.previousSumLow;
    this.squaresHigh = this.previousSquaresHigh;
    this.squaresLow = this.previousSquaresLow;
    this.current = this.previousResult;
    return this.update(price);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.returns.fill(0);
    this.count = 0;
    this.next = 0;
    this.lastPrice = 0;
    this.run = 0;
    this.sumHigh = 0;
    this.sumLow = 0;
    this.squaresHigh = 0;
    this.squaresLow = 0;
    this.current = null;
    this.previousLastPrice = 0;
    this.previousRun = 0;
    this.previousSumHigh = 0;
    this.previousSumLow = 0;
    this.previousSquaresHigh = 0;
    this.previousSquaresLow = 0;
    this.previousEvicted = 0;
    this.previousResult = null;
  }

  /**
   * Adds `sign·x` to Σ r and `sign·x²` to Σ r² in double-double: x² is split exactly into
   * `square + error`, and each sum keeps the rounding of every addition in its low part (two-sum).
   */
  private add(x: number, sign: 1 | -1): void {
    const value = sign * x;
    let high = this.sumHigh;
    let total = high + value;
    let b = total - high;
    let low = high - (total - b) + (value - b) + this.sumLow;
    this.sumHigh = total + low;
    this.sumLow = low - (this.sumHigh - total);
    const product = x * x;
    const square = sign * product;
    const error = sign * productError(x, x, product);
    high = this.squaresHigh;
    total = high + square;
    b = total - high;
    low = high - (total - b) + (square - b) + this.squaresLow + error;
    this.squaresHigh = total + low;
    this.squaresLow = low - (this.squaresHigh - total);
  }

  /** The population variance `(n·Σ r² − (Σ r)²) / n²`, the difference taken in double-double. */
  private variance(): number {
    const n = this.period;
    const scaled = n * this.squaresHigh;
    const scaledLow = productError(n, this.squaresHigh, scaled) + n * this.squaresLow;
    const squared = this.sumHigh * this.sumHigh;
    const squaredLow = productError(this.sumHigh, this.sumHigh, squared) + 2 * this.sumHigh * this.sumLow;
    const difference = scaled - squared;
    const b = difference - scaled;
    const low = scaled - (difference - b) - (squared + b) + scaledLow - squaredLow;
    return Math.max(difference + low, 0) / (n * n);
  }
}

/** 2^27 + 1: Veltkamp's constant, splitting a double into two halves whose products are exact. */
const SPLIT = 134_217_729;

/** The rounding error of the product `p = fl(a·b)`: `a·b − p` exactly (Dekker). */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const aHigh = c - (c - a);
  const aLow = a - aHigh;
  c = SPLIT * b;
  const bHigh = c - (c - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - p + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/** Checks a price: a positive finite number, since its logarithm is taken. */
function assertPrice(price: unknown): asserts price is number {
  if (typeof price !== 'number' || !(price > 0) || price === Number.POSITIVE_INFINITY) {
    const shown = typeof price === 'number' ? String(price) : quote(price);
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `RoughVolatility input must be a positive finite price, got ${shown}`,
    );
  }
}
