import { assertInput, assertPeriod } from '../indicators/assert-input.js';
import type { StreamingIndicator } from '../indicators/indicator.js';
import { RollingExtremes } from '../indicators/rolling-extremes.js';

/**
 * Stochastic %K of a single series, in [0, 100]: where the latest input sits within the range of
 * the last `period` inputs (itself included), `100·(x − min)/(max − min)`; 0 when the window is
 * flat (`max = min`), as in TA-Lib and the original qmtl `stochastic`. `null` until `period` inputs.
 * No %D smoothing; for bars (high/low/close) see `KDJ`.
 *
 * @example
 * const stochastic = new Stochastic(3);
 * [1, 3, 2, 2, 2].map((x) => stochastic.update(x)); // [null, null, 50, 0, 0]
 */
export class Stochastic implements StreamingIndicator {
  readonly warmupPeriod: number;
  private readonly window: RollingExtremes;
  private current: number | null = null;

  /** @param period the window length in inputs; a positive integer. */
  constructor(period = 14) {
    this.warmupPeriod = assertPeriod('Stochastic', period);
    this.window = new RollingExtremes(period, 'Stochastic');
  }

  /** The latest %K, `null` until warm. */
  get result(): number | null {
    return this.current;
  }

  /** True once `period` inputs have been seen. */
  get isWarm(): boolean {
    return this.current !== null;
  }

  /** Adds the next input and returns the new %K (or `null` while warming up). */
  update(value: number): number | null {
    assertInput('Stochastic', value);
    this.window.push(value);
    return this.evaluate(value);
  }

  /** Replaces the newest input (a late correction) and returns the recomputed %K. */
  replace(value: number): number | null {
    assertInput('Stochastic', value);
    this.window.replaceNewest(value);
    return this.evaluate(value);
  }

  /** Returns to the freshly constructed state. */
  reset(): void {
    this.window.reset();
    this.current = null;
  }

  private evaluate(value: number): number | null {
    const window = this.window;
    if (!window.isFull) return (this.current = null);
    const min = window.min();
    const range = window.max() - min;
    // Dividing before scaling keeps the top of the range at exactly 100.
    return (this.current = range > 0 ? 100 * ((value - min) / range) : 0);
  }
}
