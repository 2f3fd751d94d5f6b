/** One indicator benchmark: ours and the peer libraries' versions of the same indicator. */
import type { PriceBar } from '../../src/indicators/indicator.js';

/** Feeds one input; returns something so the work cannot be optimised away. */
export type Step<In> = (value: In) => unknown;

export interface IndicatorBenchCase<In = number> {
  /** e.g. `'EMA(20)'`. */
  readonly name: string;
  /** `'value'` cases get a random walk, `'bar'` cases OHLCV bars. */
  readonly input: In extends number ? 'value' : 'bar';
  /** Builds a fresh stepper of our indicator. */
  readonly ours: () => Step<In>;
  /** Peer implementations by label, e.g. `{ 'trading-signals FasterEMA': () => … }`. */
  readonly peers: Readonly<Record<string, () => Step<In>>>;
}

export type AnyBenchCase = IndicatorBenchCase<number> | IndicatorBenchCase<PriceBar>;
