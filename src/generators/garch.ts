import { QmtlError } from '../common/errors.js';
import { resolveGarchOptions, type GarchOptions, type ResolvedGarchOptions } from './garch-options.js';
import { takeBars, type BarGenerator, type OhlcvBar } from './ohlcv-bar.js';
import { SeededRandom } from './random.js';

/**
 * A seeded synthetic market: OHLCV bars from a GARCH(1,1) process of log returns.
 *
 * Each step t draws ε_t ~ N(0, 1) and moves the price by `price ← price · exp(r_t)` with
 * - r_t = μ + σ_t ε_t,
 * - σ²_t = ω + α (r_{t−1} − μ)² + β σ²_{t−1}, starting from σ²_0 = ω/(1−α−β).
 *
 * A bar aggregates `stepsPerBar` steps: `open` is the previous close (`startPrice` for the first
 * bar), `close` the last price, `high`/`low` the extremes of the prices in the bar including
 * `open`. Its volume is `baseVolume · (0.5 + u) · (1 + Σ|r_t − μ| / (stepsPerBar · σ̄))` with
 * u ~ U[0, 1) and σ̄ = √(ω/(1−α−β)): always positive, noisy, and larger in turbulent bars
 * (its mean is about `1.8 · baseVolume`).
 *
 * The same options give the same bars on every run; a bar costs `stepsPerBar` normal draws plus
 * one uniform and allocates only the returned object.
 *
 * @example
 * const market = new GarchGenerator({ seed: 42 });
 * const bars = market.bars(1_000); // [{ open: 100, high, low, close, volume }, …]
 */
export class GarchGenerator implements BarGenerator {
  /** The options in use, defaults filled in. */
  readonly options: Readonly<ResolvedGarchOptions>;
  private readonly random: SeededRandom;
  private readonly mu: number;
  private readonly omega: number;
  private readonly alpha: number;
  private readonly beta: number;
  private readonly stepsPerBar: number;
  private readonly volumeScale: number;
  private readonly shockScale: number;
  private price: number;
  private variance: number;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: GarchOptions) {
    const { options: resolved, problems } = resolveGarchOptions(options);
    if (problems.length > 0) throw QmtlError.fromProblems('Invalid GarchGenerator options', problems);
    this.options = Object.freeze(resolved);
    this.random = new SeededRandom(resolved.seed);
    this.mu = resolved.mu;
    this.omega = resolved.omega;
    this.alpha = resolved.alpha;
    this.beta = resolved.beta;
    this.stepsPerBar = resolved.stepsPerBar;
    this.volumeScale = resolved.baseVolume;
    this.shockScale = 1 / (resolved.stepsPerBar * Math.sqrt(this.unconditionalVariance));
    this.price = resolved.startPrice;
    this.variance = this.unconditionalVariance;
  }

  /** ω/(1−α−β): the long-run variance of one step's return, and σ²_0. */
  get unconditionalVariance(): number {
    return this.omega / (1 - this.alpha - this.beta);
  }

  /** Generates the next bar. */
  nextBar(): OhlcvBar {
    const { mu, omega, alpha, beta, random } = this;
    const open = this.price;
    let price = open;
    let high = open;
    let low = open;
    let variance = this.variance;
    let absoluteShocks = 0;
    for (let step = 0; step < this.stepsPerBar; step += 1) {
      const shock = Math.sqrt(variance) * random.normal();
      price *= Math.exp(mu + shock);
      if (price > high) high = price;
      if (price < low) low = price;
      absoluteShocks += Math.abs(shock);
      variance = omega + alpha * shock * shock + beta * variance;
    }
    this.price = price;
    this.variance = variance;
    const volume = this.volumeScale * (0.5 + random.next()) * (1 + absoluteShocks * this.shockScale);
    return { open, high, low, close: price, volume };
  }

  /**
   * Generates the next `count` bars.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` when `count` is not a non-negative integer.
   */
  bars(count: number): OhlcvBar[] {
    return takeBars(this, count);
  }

  /** Returns to the first bar: the same options then give the same bars again. */
  reset(): void {
    this.random.reset();
    this.price = this.options.startPrice;
    this.variance = this.unconditionalVariance;
  }
}
