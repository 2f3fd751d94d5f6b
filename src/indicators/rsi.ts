import { assertInput, assertPeriod } from './assert-input.js';
import type { StreamingIndicator } from './indicator.js';

/**
 * Wilder's relative strength index, in [0, 100].
 *
 * The first average gain and loss are the simple means of the first `period` changes (so the
 * first result comes with input `period + 1`); after that each is smoothed as
 * `avg ← (avg·(period−1) + x)/period`. RSI = 100 − 100/(1 + avgGain/avgLoss). An average loss of
 * 0 gives 100, also when the average gain is 0 too (a flat series), as trading-signals' `RSI` does
 * (TA-Lib gives 0 there). An input equal to the one before leaves the RSI exactly unchanged, as it
 * is mathematically (both averages shrink by the same factor), so a run of identical inputs gives
 * one constant RSI rather than one that wobbles in its last bit.
 *
 * @example
 * const rsi = new RSI(2);
 * [1, 2, 1, 3].map((x) => rsi.update(x)); // [null, null, 50, 83.33…]
 */
export class RSI implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly period: number;
  /** Inputs seen since construction or `reset()`. */
  private count = 0;
  private last = 0;
  private gainSum = 0;
  private lossSum = 0;
  private avgGain = 0;
  private avgLoss = 0;
  private current: number | null = null;
  // State before the newest update, so replace() can undo it exactly.
  private previousLast = 0;
  private previousGainSum = 0;
  private previousLossSum = 0;
  private previousAvgGain = 0;
  private previousAvgLoss = 0;
  private previousResult: number | null = null;

  /** @param period the number of changes averaged; a positive integer (Wilder used 14). */
  constructor(period = 14) {
    this.period = assertPeriod('RSI', period);
    this.warmupPeriod = this.period + 1;
  }

  /** The latest RSI, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period + 1` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new RSI (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('RSI', value);
    this.save();
    this.count += 1;
    const change = value - this.last;
    this.last = value;
    if (this.count === 1) return this.current;
    const gain = change > 0 ? change : 0;
    const loss = change < 0 ? -change : 0;
    if (this.current !== null) {
      this.avgGain = (this.avgGain * (this.period - 1) + gain) / this.period;
      this.avgLoss = (this.avgLoss * (this.period - 1) + loss) / this.period;
      // An unchanged input scales both averages by (period−1)/period, which leaves their ratio and
      // so the RSI exactly as it was; recomputing it would wobble by an ulp (and make a stochastic
      // of the RSI jump between 0 and 100 on identical bars).
      if (change === 0) return this.current;
    } else {
      this.gainSum += gain;
      this.lossSum += loss;
      if (this.count <= this.period) return this.current;
      this.avgGain = this.gainSum / this.period;
      this.avgLoss = this.lossSum / this.period;
    }
    this.current = this.avgLoss === 0 ? 100 : 100 - 100 / (1 + this.avgGain / this.avgLoss);
    return this.current;
  }

  /** Replaces the newest input (a late correction) and returns the recomputed RSI. */
  replace(value: number): number | null {
    assertInput('RSI', value);
    if (this.count === 0) return this.update(value);
    this.count -= 1;
    this.last = this.previousLast;
    this.gainSum = this.previousGainSum;
    this.lossSum = this.previousLossSum;
    this.avgGain = this.previousAvgGain;
    this.avgLoss = this.previousAvgLoss;
    this.current = this.previousResult;
    return this.update(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.count = 0;
    this.last = 0;
    this.gainSum = 0;
    this.lossSum = 0;
    this.avgGain = 0;
    this.avgLoss = 0;
    this.current = null;
    this.save();
  }

  private save(): void {
    this.previousLast = this.last;
    this.previousGainSum = this.gainSum;
    this.previousLossSum = this.lossSum;
    this.previousAvgGain = this.avgGain;
    this.previousAvgLoss = this.avgLoss;
    this.previousResult = this.current;
  }
}
