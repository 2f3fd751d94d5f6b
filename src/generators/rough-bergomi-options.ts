import type { Problem } from '../common/errors.js';
import { checkFields, definedFields, isFiniteNumber, isSafeInteger, OptionRules } from './option-checks.js';

/**
 * Options of a {@link RoughBergomiGenerator}; every field but `seed` has a default. Rates and
 * variances are annual (time in years of 365 days, see `SECONDS_PER_YEAR`). The defaults are the
 * rough-volatility calibration of Bayer, Friz & Gatheral (2016) with H = 0.1.
 */
export interface RoughBergomiOptions {
  /** Seed of the random numbers; a safe integer. */
  readonly seed: number;
  /** Price S_0 before the first step; > 0. Default 100. */
  readonly startPrice?: number;
  /** μ, the annual drift: E[S_t] = S_0·e^{μt}. Finite. Default 0. */
  readonly mu?: number;
  /** ξ_0, the flat forward variance: E[V_t] = ξ_0 (0.04 is 20 % volatility); > 0. Default 0.04. */
  readonly xi0?: number;
  /** η, the volatility of the variance; ≥ 0 (0 gives constant variance ξ_0). Default 1.9. */
  readonly eta?: number;
  /** H, the Hurst exponent of the variance; in (0, 0.5] (0.5 is a lognormal, non-rough model). Default 0.1. */
  readonly hurst?: number;
  /** ρ, the correlation of the price with the Brownian motion driving the variance; in [−1, 1]. Default −0.9. */
  readonly rho?: number;
  /** Seconds a bar spans; a positive integer. Each step is `interval / stepsPerBar` seconds. Default 60. */
  readonly interval?: number;
  /** Steps aggregated into one bar; a positive integer. Default 4. */
  readonly stepsPerBar?: number;
  /**
   * Volume scale: a bar's mean volume is `baseVolume · (1 + E Σ|√(V dt) Z|/σ̄)`, about 1.7 ×
   * baseVolume over the first day, falling towards 1.5 × over a year as the variance spreads; > 0.
   * Default 1000.
   */
  readonly baseVolume?: number;
  /**
   * Steps of path history the Volterra kernel reaches back: `null` (the default) keeps the whole
   * path, exact for the scheme, at a cost per step that grows with the path. A positive integer
   * K truncates the kernel after K steps: constant cost and memory per step, but Var Y_t stops
   * growing at ≈ (K·dt)^{2H}, which shortens the memory of the variance to K steps. It also
   * roughens small lags: Y_t − Y_{t−K·dt} gains an edge term, so the variogram of log V at small
   * lags is too large, by ~2× at H = 0.5, 1.4–3.6 % at H = 0.3 with K = 5000 (8–21 % with
   * K = 100) and ≤ 0.3 % at H ≤ 0.1, the rough regime the model is for.
   */
  readonly kernelSteps?: number | null;
}

/** {@link RoughBergomiOptions} with every default filled in. */
export type ResolvedRoughBergomiOptions = Required<RoughBergomiOptions>;

/** The defaults of {@link RoughBergomiOptions}. */
export const ROUGH_BERGOMI_DEFAULTS = {
  startPrice: 100,
  mu: 0,
  xi0: 0.04,
  eta: 1.9,
  hurst: 0.1,
  rho: -0.9,
  interval: 60,
  stepsPerBar: 4,
  baseVolume: 1_000,
  kernelSteps: null,
} as const satisfies Omit<ResolvedRoughBergomiOptions, 'seed'>;

const ROUGH_BERGOMI_RULES = {
  seed: OptionRules.safeInteger,
  startPrice: OptionRules.positive,
  mu: OptionRules.finite,
  xi0: OptionRules.positive,
  eta: OptionRules.nonNegative,
  hurst: {
    text: 'a finite number in (0, 0.5]',
    test: (value: unknown) => isFiniteNumber(value) && value > 0 && value <= 0.5,
  },
  rho: OptionRules.correlation,
  interval: OptionRules.seconds,
  stepsPerBar: OptionRules.positiveInteger,
  baseVolume: OptionRules.positive,
  kernelSteps: {
    text: 'null (the whole path) or a positive integer',
    test: (value: unknown) => value === null || (isSafeInteger(value) && value > 0),
  },
} as const;

/** Fills in the defaults of {@link RoughBergomiOptions} and lists every problem with the result. */
export function resolveRoughBergomiOptions(options: RoughBergomiOptions): {
  options: ResolvedRoughBergomiOptions;
  problems: Problem[];
} {
  const resolved = { ...ROUGH_BERGOMI_DEFAULTS, ...definedFields(options) } as ResolvedRoughBergomiOptions;
  return { options: resolved, problems: checkFields(resolved, ROUGH_BERGOMI_RULES) };
}
