/**
 * A trend state machine as a streaming indicator: its state lives in the indicator, one instance
 * per run, and its parameters and class source are part of the node's identity. (State in a
 * variable that a compute function closes over is invisible to the NodeID, so two nodes that
 * differ only in it are taken for one, and it outlives the run.)
 */
import {
  EMA,
  indicatorNode,
  type IndicatorNode,
  type IndicatorNodeOptions,
  type StreamingIndicator,
} from 'qmtl/indicators';
import { ErrorCode, QmtlError, type Node } from 'qmtl';

/** The two states: 1 while the trend is up, −1 while it is down. */
export type Trend = 1 | -1;

/**
 * Up or down against an EMA of the input, with a dead band: the state turns up (1) when the input
 * closes above `EMA × (1 + band)`, down (−1) below `EMA × (1 − band)`, and stays as it is in
 * between, so noise around the average does not flip it. The first warm bar starts it on the side
 * of the average the input is on. `null` until the EMA is warm (`period` inputs).
 *
 * @example
 * const machine = new TrendState(3, 0.01);
 * [10, 10, 10, 11, 10.95, 9].map((x) => machine.update(x)); // [null, null, 1, 1, 1, -1]
 */
export class TrendState implements StreamingIndicator<number, Trend> {
  readonly warmupPeriod: number;
  private readonly average: EMA;
  private readonly band: number;
  private trend: Trend | null = null;
  /** The state before the newest input, so `replace` can undo it. */
  private trendBefore: Trend | null = null;

  constructor(period: number, band: number) {
    if (!(Number.isFinite(band) && band >= 0 && band < 1))
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `TrendState band must be a number in [0, 1), got ${band}`,
      );
    this.average = new EMA(period);
    this.band = band;
    this.warmupPeriod = this.average.warmupPeriod;
  }

  get result(): Trend | null {
    return this.trend;
  }

  get isWarm(): boolean {
    return this.trend !== null;
  }

  /** Takes the next input; returns the state after it. */
  update(value: number): Trend | null {
    const average = this.average.update(value); // throws on a bad input, before anything changed
    this.trendBefore = this.trend;
    return (this.trend = this.next(this.trendBefore, value, average));
  }

  /** Replaces the newest input (a late correction of the bar) and returns the state after it. */
  replace(value: number): Trend | null {
    const average = this.average.replace(value);
    return (this.trend = this.next(this.trendBefore, value, average));
  }

  reset(): void {
    this.average.reset();
    this.trend = this.trendBefore = null;
  }

  /** The transition: where `value` against `average` takes the state `from`. */
  private next(from: Trend | null, value: number, average: number | null): Trend | null {
    if (average === null) return null;
    if (value > average * (1 + this.band)) return 1;
    if (value < average * (1 - this.band)) return -1;
    return from ?? (value >= average ? 1 : -1);
  }
}

/**
 * A node running {@link TrendState} on `source`; `period` and `band` are part of its NodeID.
 * @example const trend = trendState(price, { period: 20, band: 0.001, field: 'close' });
 */
export function trendState(
  source: Node,
  options: IndicatorNodeOptions & { readonly period: number; readonly band: number },
): IndicatorNode {
  const { period, band, ...rest } = options;
  return indicatorNode(
    { indicator: 'TrendState', indicatorClass: TrendState, create: (p) => new TrendState(p.period, p.band) },
    source,
    { period, band },
    rest,
  );
}
