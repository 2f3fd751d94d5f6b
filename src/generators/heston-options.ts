import type { Problem } from '../common/errors.js';
import { checkFields, definedFields, OptionRules } from './option-checks.js';

/**
 * Options of a {@link HestonGenerator}; every field but `seed` has a default. Rates and variances
 * are annual (time in years of 365 days, see `SECONDS_PER_YEAR`); the defaults satisfy Feller's condition.
 */
export interface HestonOptions {
  /** Seed of the random numbers; a safe integer. */
  readonly seed: number;
  /** Price S_0 before the first step; > 0. Default 100. */
  readonly startPrice?: number;
  /** μ, the annual drift: E[S_t] = S_0·e^{μt}. Finite. Default 0. */
  readonly mu?: number;
  /** v_0, the variance before the first step (annualised, σ² = 0.04 is 20 % volatility); ≥ 0. Default 0.04. */
  readonly v0?: number;
  /** κ, the speed at which the variance reverts to θ, per year; > 0. Default 2. */
  readonly kappa?: number;
  /** θ, the long-run mean of the variance; > 0. Default 0.04. */
  readonly theta?: number;
  /** ξ, the volatility of the variance; > 0. Default 0.3. */
  readonly xi?: number;
  /** ρ, the correlation of the price and variance shocks; in [−1, 1]. Default −0.7. */
  readonly rho?: number;
  /** Seconds a bar spans; a positive integer. Each step is `interval / stepsPerBar` seconds. Default 60. */
  readonly interval?: number;
  /** Euler steps aggregated into one bar; a positive integer. Default 4. */
  readonly stepsPerBar?: number;
  /**
   * Volume scale: a bar's mean volume is about `1.74 × baseVolume` once the variance is
   * stationary (1 + √(2/π)·E√v/√θ); > 0. Default 1000.
   */
  readonly baseVolume?: number;
}

/** {@link HestonOptions} with every default filled in. */
export type ResolvedHestonOptions = Required<HestonOptions>;

/** The defaults of {@link HestonOptions}: 20 % volatility reverting with a half-life of ~4 months. */
export const HESTON_DEFAULTS = {
  startPrice: 100,
  mu: 0,
  v0: 0.04,
  kappa: 2,
  theta: 0.04,
  xi: 0.3,
  rho: -0.7,
  interval: 60,
  stepsPerBar: 4,
  baseVolume: 1_000,
} as const satisfies Omit<ResolvedHestonOptions, 'seed'>;

const HESTON_RULES = {
  seed: OptionRules.safeInteger,
  startPrice: OptionRules.positive,
  mu: OptionRules.finite,
  v0: OptionRules.nonNegative,
  kappa: OptionRules.positive,
  theta: OptionRules.positive,
  xi: OptionRules.positive,
  rho: OptionRules.correlation,
  interval: OptionRules.seconds,
  stepsPerBar: OptionRules.positiveInteger,
  baseVolume: OptionRules.positive,
} as const;

/** Fills in the defaults of {@link HestonOptions} and lists every problem with the result. */
export function resolveHestonOptions(options: HestonOptions): {
  options: ResolvedHestonOptions;
  problems: Problem[];
} {
  const resolved = { ...HESTON_DEFAULTS, ...definedFields(options) } as ResolvedHestonOptions;
  return { options: resolved, problems: checkFields(resolved, HESTON_RULES) };
}
