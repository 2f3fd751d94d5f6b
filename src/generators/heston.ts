import { QmtlError } from '../common/errors.js';
import { resolveHestonOptions, type HestonOptions, type ResolvedHestonOptions } from './heston-options.js';
import { takeBars, type BarGenerator, type OhlcvBar } from './ohlcv-bar.js';
import { SeededRandom } from './random.js';
import { yearsOf } from './year-fraction.js';

/**
 * A seeded synthetic market: OHLCV bars from the Heston stochastic-volatility model
 *
 *   dS = μ S dt + √v S dW_S,   dv = κ(θ − v) dt + ξ √v dW_v,   d⟨W_S, W_v⟩ = ρ dt,
 *
 * simulated with the full-truncation Euler scheme (Lord, Koekkoek & van Dijk, 2010). Time is in
 * years of 365 days (`SECONDS_PER_YEAR`): a bar spans `interval` seconds and each of its
 * `stepsPerBar` steps is `dt = interval / (stepsPerBar · 31,536,000)` years. With v⁺ = max(v, 0)
 * and independent standard normals Z_v, Z_⊥, each step does
 * - Z_S = ρ Z_v + √(1 − ρ²) Z_⊥,
 * - S ← S · exp((μ − v⁺/2) dt + √(v⁺ dt) Z_S) (log-Euler, so S stays positive),
 * - v ← v + κ(θ − v⁺) dt + ξ √(v⁺ dt) Z_v.
 * v itself may dip below zero, but only v⁺ ever enters the dynamics; E[S_t] = S_0 e^{μt} holds
 * exactly for the scheme, and E[v_t] = θ + (v_0 − θ)(1 − κ dt)^{t/dt} ≈ θ + (v_0 − θ) e^{−κt}
 * while v stays positive, which Feller's condition 2κθ ≥ ξ² makes (nearly) certain. The
 * condition is not required: {@link fellerSatisfied} reports it.
 *
 * Bars are built like GarchGenerator's: `open` is the previous close, `high`/`low` the extremes
 * of the step prices including `open`, and the volume `baseVolume · (0.5 + u) · (1 + Σ|√(v⁺dt) Z_S|
 * / (stepsPerBar · √(θ dt)))` with u ~ U[0, 1). A bar costs `2 · stepsPerBar` normal draws plus
 * one uniform; memory is constant.
 *
 * @example
 * const market = new HestonGenerator({ seed: 42, interval: 3_600, kappa: 3, theta: 0.09 });
 * const bars = market.bars(24 * 365); // a year of hourly bars
 */
export class HestonGenerator implements BarGenerator {
  /** The options in use, defaults filled in. */
  readonly options: Readonly<ResolvedHestonOptions>;
  /** Length of one Euler step, in years. */
  readonly dt: number;
  private readonly random: SeededRandom;
  private readonly rhoComplement: number;
  private readonly volumeShockScale: number;
  private price: number;
  private currentVariance: number;
  private steps = 0;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: HestonOptions) {
    const { options: resolved, problems } = resolveHestonOptions(options);
    if (problems.length > 0) throw QmtlError.fromProblems('Invalid HestonGenerator options', problems);
    this.options = Object.freeze(resolved);
    this.dt = yearsOf(resolved.interval) / resolved.stepsPerBar;
    this.random = new SeededRandom(resolved.seed);
    this.rhoComplement = Math.sqrt(1 - resolved.rho * resolved.rho);
    this.volumeShockScale = 1 / (resolved.stepsPerBar * Math.sqrt(resolved.theta * this.dt));
    this.price = resolved.startPrice;
    this.currentVariance = resolved.v0;
  }

  /** Whether 2κθ ≥ ξ² (Feller's condition): then the exact variance process never reaches 0. */
  get fellerSatisfied(): boolean {
    const { kappa, theta, xi } = this.options;
    return 2 * kappa * theta >= xi * xi;
  }

  /** The variance state v after the last step (may be slightly negative; the dynamics use max(v, 0)). */
  get variance(): number {
    return this.currentVariance;
  }

  /** The price after the last step. */
  get lastPrice(): number {
    return this.price;
  }

  /** Years simulated so far. */
  get time(): number {
    return this.steps * this.dt;
  }

  /** Generates the next bar. */
  nextBar(): OhlcvBar {
    const { mu, kappa, theta, xi, rho, stepsPerBar } = this.options;
    const { dt, random, rhoComplement } = this;
    const open = this.price;
    let price = open;
    let high = open;
    let low = open;
    let variance = this.currentVariance;
    let absoluteShocks = 0;
    for (let step = 0; step < stepsPerBar; step += 1) {
      const positive = variance > 0 ? variance : 0;
      const scale = Math.sqrt(positive * dt);
      const varianceNormal = random.normal();
      const priceShock = scale * (rho * varianceNormal + rhoComplement * random.normal());
      price *= Math.exp((mu - 0.5 * positive) * dt + priceShock);
      if (price > high) high = price;
      if (price < low) low = price;
      absoluteShocks += Math.abs(priceShock);
      variance += kappa * (theta - positive) * dt + xi * scale * varianceNormal;
    }
    this.price = price;
    this.currentVariance = variance;
    this.steps += stepsPerBar;
    const volume =
      this.options.baseVolume * (0.5 + random.next()) * (1 + absoluteShocks * this.volumeShockScale);
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
    this.currentVariance = this.options.v0;
    this.steps = 0;
  }
}
