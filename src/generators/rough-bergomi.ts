import { QmtlError } from '../common/errors.js';
import { takeBars, type BarGenerator, type OhlcvBar } from './ohlcv-bar.js';
import { SeededRandom } from './random.js';
import {
  resolveRoughBergomiOptions,
  type ResolvedRoughBergomiOptions,
  type RoughBergomiOptions,
} from './rough-bergomi-options.js';
import { yearsOf } from './year-fraction.js';

/**
 * A seeded synthetic market: OHLCV bars from the rough Bergomi model (Bayer, Friz & Gatheral,
 * 2016) with a flat forward variance ξ_0:
 *
 *   V_t = ξ_0 · exp(η Y_t − ½ η² Var Y_t),   Y_t = √(2H) ∫₀ᵗ (t − s)^{H−½} dW_s  (Var Y_t = t^{2H}),
 *   dS = μ S dt + √V S (ρ dW + √(1 − ρ²) dW_⊥).
 *
 * Time is in years of 365 days (`SECONDS_PER_YEAR`): each of a bar's `stepsPerBar` steps is
 * `dt = interval / (stepsPerBar · 31,536,000)` years; t_i = i·dt.
 *
 * **Scheme.** Y is the hybrid scheme of Bennedsen, Lunde & Pakkanen (2017) with κ = 1, streamed:
 * with α = H − ½ and ΔW_j = W(t_j) − W(t_{j−1}),
 *
 *   Y(t_i) = √(2H) · [ I_i + Σ_{k=2}^{i} w_k ΔW_{i−k+1} ],  I_i = ∫_{t_{i−1}}^{t_i} (t_i − s)^α dW_s,
 *   w_k = dt^α · (k^{α+1} − (k−1)^{α+1}) / (α+1)   (the kernel at the optimal point b_k·dt).
 *
 * The singular last cell is exact: (ΔW_i, I_i) is drawn jointly Gaussian with Var ΔW_i = dt,
 * Cov = dt^{α+1}/(α+1), Var I_i = dt^{2H}/(2H); the rest is a Riemann sum over the whole path
 * history. The scheme reproduces Cov(Y_t, W_t) exactly and Var Y_t to within 0.1 % for every H.
 * V is compensated with the scheme's own Var Y(t_i) ({@link volterraVariance}), so E[V_t] = ξ_0
 * holds exactly on the grid, not just up to the scheme's error. Unlike models that draw fBm
 * increments independently, Y keeps the long memory of the Volterra kernel.
 *
 * **Price.** A log-Euler step with the variance at the start of the step, driven by the same
 * ΔW_i as Y: S ← S · exp((μ − V/2) dt + √(V dt) (ρ ΔW_i/√dt + √(1 − ρ²) Z_⊥)). The variance is
 * known before the shock is drawn, so E[S_t] = S_0 e^{μt} holds exactly for the scheme.
 *
 * **Cost.** Step i costs three normal draws, two `exp` and min(i, K) multiply-adds (K =
 * `kernelSteps`, unbounded by default), so the n-th bar costs O(n · stepsPerBar²) and n bars
 * O(n² · stepsPerBar²): 40,000 steps (8·10⁸ multiply-adds) take 1–1.5 s on an idle core, and
 * 100,000 bars at the default 4 steps ~100 s; give `kernelSteps` for long series (K = 1000:
 * ~160,000 bars/s). Memory is 16 bytes per step of history (the increments and the kernel
 * weights). With `kernelSteps: K` each step is O(K) and memory at most ~48·K bytes (buffers
 * grow by doubling); see
 * {@link RoughBergomiOptions.kernelSteps} for what truncation changes.
 *
 * Bars are built like GarchGenerator's: `open` is the previous close, `high`/`low` the extremes
 * of the step prices including `open`, and the volume `baseVolume · (0.5 + u) · (1 + Σ|√(V dt)
 * Z_S| / (stepsPerBar · √(ξ_0 dt)))` with u ~ U[0, 1).
 *
 * @example
 * const market = new RoughBergomiGenerator({ seed: 42, interval: 300, hurst: 0.07 });
 * const bars = market.bars(288); // a day of 5-minute bars
 */
export class RoughBergomiGenerator implements BarGenerator {
  /** The options in use, defaults filled in. */
  readonly options: Readonly<ResolvedRoughBergomiOptions>;
  /** Length of one step, in years. */
  readonly dt: number;
  private readonly random: SeededRandom;
  private readonly alpha: number;
  private readonly sqrtDt: number;
  private readonly rhoComplement: number;
  /** I_i = localSlope · ΔW_i + localDeviation · Z: the regression of I_i on ΔW_i plus the rest. */
  private readonly localSlope: number;
  private readonly localDeviation: number;
  private readonly memory: number;
  /** Var of √(2H)·I_i: dt^{2H}. */
  private readonly localVariance: number;
  /** √(2H), the normalisation that makes Var Y_t = t^{2H}. */
  private readonly volterraScale: number;
  private readonly volumeShockScale: number;
  /** weights[k] = w_k for 2 ≤ k < weightCount. */
  private weights: Float64Array = new Float64Array(64);
  private weightCount = 2;
  /** The last `stored` Brownian increments, oldest first. */
  private increments: Float64Array = new Float64Array(64);
  private stored = 0;
  /** Riemann terms in use, min(i, K), and dt · Σ_{k=2}^{terms} w_k². */
  private terms = 1;
  private riemannVariance = 0;
  private steps = 0;
  private price: number;
  private y = 0;
  private w = 0;
  private currentVariance: number;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: RoughBergomiOptions) {
    const { options: resolved, problems } = resolveRoughBergomiOptions(options);
    if (problems.length > 0) throw QmtlError.fromProblems('Invalid RoughBergomiGenerator options', problems);
    this.options = Object.freeze(resolved);
    const { hurst, rho, stepsPerBar, interval, kernelSteps, xi0, startPrice } = resolved;
    const dt = yearsOf(interval) / stepsPerBar;
    const alpha = hurst - 0.5;
    this.dt = dt;
    this.alpha = alpha;
    this.random = new SeededRandom(resolved.seed);
    this.sqrtDt = Math.sqrt(dt);
    this.rhoComplement = Math.sqrt(1 - rho * rho);
    this.localSlope = dt ** alpha / (alpha + 1);
    // Var I − Cov²/Var ΔW = dt^{2H} (1/(2α+1) − 1/(α+1)²) ≥ 0, and 0 when H = ½.
    this.localDeviation = dt ** hurst * Math.sqrt(Math.max(0, 1 / (2 * hurst) - 1 / (alpha + 1) ** 2));
    this.memory = kernelSteps ?? Number.POSITIVE_INFINITY;
    this.localVariance = dt ** (2 * hurst);
    this.volterraScale = Math.sqrt(2 * hurst);
    this.volumeShockScale = 1 / (stepsPerBar * Math.sqrt(xi0 * dt));
    this.price = startPrice;
    this.currentVariance = xi0;
  }

  /** The instantaneous variance V after the last step (ξ_0 before the first). */
  get variance(): number {
    return this.currentVariance;
  }

  /** The Volterra process Y after the last step. */
  get volterra(): number {
    return this.y;
  }

  /**
   * Var Y under the scheme after the last step, the compensator of V: within 0.1 % of t^{2H}
   * (the exact process's), or ≈ (K·dt)^{2H} once t > K·dt with `kernelSteps: K`.
   */
  get volterraVariance(): number {
    if (this.steps === 0) return 0;
    return this.localVariance + 2 * this.options.hurst * this.riemannVariance;
  }

  /** The Brownian motion W that drives Y, after the last step. */
  get brownian(): number {
    return this.w;
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
    const open = this.price;
    let high = open;
    let low = open;
    let absoluteShocks = 0;
    for (let step = 0; step < this.options.stepsPerBar; step += 1) {
      absoluteShocks += Math.abs(this.step());
      if (this.price > high) high = this.price;
      if (this.price < low) low = this.price;
    }
    const volume =
      this.options.baseVolume * (0.5 + this.random.next()) * (1 + absoluteShocks * this.volumeShockScale);
    return { open, high, low, close: this.price, volume };
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
    this.stored = 0;
    this.terms = 1;
    this.riemannVariance = 0;
    this.steps = 0;
    this.price = this.options.startPrice;
    this.y = 0;
    this.w = 0;
    this.currentVariance = this.options.xi0;
  }

  /** Advances one step of dt; returns the diffusive part of the log return. */
  private step(): number {
    const { mu, rho, eta, xi0 } = this.options;
    const { dt, random } = this;
    const variance = this.currentVariance;
    const normal = random.normal();
    const increment = this.sqrtDt * normal;
    const local = this.localSlope * increment + this.localDeviation * random.normal();
    const shock = Math.sqrt(variance * dt) * (rho * normal + this.rhoComplement * random.normal());
    this.price *= Math.exp((mu - 0.5 * variance) * dt + shock);
    this.pushIncrement(increment);
    this.steps += 1;
    this.w += increment;
    if (this.terms < this.steps && this.terms < this.memory) {
      this.terms += 1;
      const weight = this.weight(this.terms);
      this.riemannVariance += dt * weight * weight;
    }
    const { weights, increments, terms } = this;
    const newest = this.stored - 1;
    let sum = local;
    for (let k = 2; k <= terms; k += 1) sum += weights[k]! * increments[newest - k + 1]!;
    this.y = this.volterraScale * sum;
    this.currentVariance = xi0 * Math.exp(eta * this.y - 0.5 * eta * eta * this.volterraVariance);
    return shock;
  }

  /** w_k, computed once and kept: dt^α (k^{α+1} − (k−1)^{α+1}) / (α+1), without cancellation. */
  private weight(k: number): number {
    while (this.weightCount <= k) {
      if (this.weightCount === this.weights.length)
        this.weights = grown(this.weights, 2 * this.weights.length);
      const j = this.weightCount;
      const power = this.alpha + 1;
      const difference = -Math.expm1(power * Math.log1p(-1 / j)) * j ** power;
      this.weights[j] = (this.dt ** this.alpha * difference) / power;
      this.weightCount += 1;
    }
    return this.weights[k]!;
  }

  /** Appends ΔW_i, dropping increments the kernel no longer reaches when it is truncated. */
  private pushIncrement(increment: number): void {
    if (this.stored === this.increments.length) {
      const keep = Math.min(this.stored, this.memory);
      const start = this.stored - keep;
      if (2 * keep > this.increments.length) {
        this.increments = grown(this.increments.subarray(start), 2 * this.increments.length);
      } else {
        this.increments.copyWithin(0, start, this.stored);
      }
      this.stored = keep;
    }
    this.increments[this.stored] = increment;
    this.stored += 1;
  }
}

/** `values` copied to the start of a new array of `capacity` slots. */
function grown(values: Float64Array, capacity: number): Float64Array {
  const copy = new Float64Array(capacity);
  copy.set(values);
  return copy;
}
