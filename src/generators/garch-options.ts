import { ErrorCode, type Problem } from '../common/errors.js';
import { checkFields, definedFields, isFiniteNumber, OptionRules } from './option-checks.js';

/** Options of a {@link GarchGenerator}; every field but `seed` has a default. */
export interface GarchOptions {
  /** Seed of the random numbers; a safe integer. */
  readonly seed: number;
  /** Price before the first step; > 0. Default 100. */
  readonly startPrice?: number;
  /** Mean log return per step. Default 0. */
  readonly mu?: number;
  /** ω, the constant of the variance recursion; > 0. Default 1e-6. */
  readonly omega?: number;
  /** α, the weight of the last squared shock; ≥ 0. Default 0.05. */
  readonly alpha?: number;
  /** β, the weight of the last variance; ≥ 0, with α + β < 1. Default 0.9. */
  readonly beta?: number;
  /** Return steps aggregated into one bar; a positive integer. Default 4. */
  readonly stepsPerBar?: number;
  /** Volume scale: a bar's mean volume is about `1.79 × baseVolume`; > 0. Default 1000. */
  readonly baseVolume?: number;
}

/** {@link GarchOptions} with every default filled in. */
export type ResolvedGarchOptions = Required<GarchOptions>;

/** The defaults of {@link GarchOptions}: a per-step volatility of √(ω/(1−α−β)) ≈ 0.45%. */
export const GARCH_DEFAULTS = {
  startPrice: 100,
  mu: 0,
  omega: 1e-6,
  alpha: 0.05,
  beta: 0.9,
  stepsPerBar: 4,
  baseVolume: 1_000,
} as const satisfies Omit<ResolvedGarchOptions, 'seed'>;

const GARCH_RULES = {
  seed: OptionRules.safeInteger,
  startPrice: OptionRules.positive,
  mu: OptionRules.finite,
  omega: OptionRules.positive,
  alpha: OptionRules.nonNegative,
  beta: OptionRules.nonNegative,
  stepsPerBar: OptionRules.positiveInteger,
  baseVolume: OptionRules.positive,
} as const;

/** Fills in the defaults of {@link GarchOptions} and lists every problem with the result. */
export function resolveGarchOptions(options: GarchOptions): {
  options: ResolvedGarchOptions;
  problems: Problem[];
} {
  const resolved: ResolvedGarchOptions = {
    ...GARCH_DEFAULTS,
    ...definedFields(options),
  } as ResolvedGarchOptions;
  const { alpha, beta } = resolved;
  const problems: Problem[] = checkFields(resolved, GARCH_RULES);
  if (isFiniteNumber(alpha) && isFiniteNumber(beta) && alpha + beta >= 1) {
    problems.push({
      code: ErrorCode.InvalidArgument,
      message: `alpha + beta must be < 1 for a stationary GARCH(1,1), got alpha = ${alpha}, beta = ${beta} (sum ${alpha + beta})`,
    });
  }
  return { options: resolved, problems };
}
