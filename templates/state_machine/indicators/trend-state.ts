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

/** The two states. */
export type Trend = 'up' | 'down';

/** What the machine reports for each bar: its state, and whether this bar changed it. */
export interface TrendReport {
  readonly trend: Trend;
  readonly changed: boolean;
}

/**
 * Up or down against an EMA of the input, with a dead band: the state turns `up` when the input
 * closes above `EMA × (1 + band)`, `down` below `EMA × (1 − band)`, and stays as it is in between,
 * so noise around the average does not flip it. The first warm bar starts it on the side of the
 * average the input is on. `null` until the EMA is warm (`period` inputs).
 *
 * @example
 * const machine = new TrendState(3, 0.01);
 * [10, 10, 10, 11, 10.95, 9].map((x) => machine.update(x)?.trend ?? null);
 * // [null, null, 'up', 'up', 'up', 'down']
 */
export class TrendState implements StreamingIndicator<number, TrendReport> {
  readonly warmupPeriod: number;
  private readonly average: EMA;
  private readonly band: number;
  private trend: Trend | null = null;
  /** The state before the newest input, so `replace` can undo it. */
  private trendBefore: Trend | null = null;
  private report: TrendReport | null = null;

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

  get result(): TrendReport | null {
    return this.report;
  }

  get isWarm(): boolean {
    return this.report !== null;
  }

  /** Takes the next input; returns the state after it. */
  update(value: number): TrendReport | null {
    this.trendBefore = this.trend;
    return this.step(value, this.average.update(value));
  }

  /** Replaces the newest input (a late correction of the bar). */
  replace(value: number): TrendReport | null {
    this.trend = this.trendBefore;
    return this.step(value, this.average.replace(value));
  }

  reset(): void {
    this.average.reset();
    this.trend = this.trendBefore = null;
    this.report = null;
  }

  private step(value: number, average: number | null): TrendReport | null {
    if (average === null) return (this.report = null);
    const previous = this.trend;
    let next: Trend = previous ?? (value >= average ? 'up' : 'down');
    if (value > average * (1 + this.band)) next = 'up';
    else if (value < average * (1 - this.band)) next = 'down';
    this.trend = next;
    this.report = Object.freeze({ trend: next, changed: previous !== null && next !== previous });
    return this.report;
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
