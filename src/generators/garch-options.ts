import { ErrorCode, quote, type Problem } from '../common/errors.js';

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
  /** Volume scale: a bar's mean volume is about `1.8 × baseVolume`; > 0. Default 1000. */
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

/** Shows a value in a message; unlike `quote`, keeps `NaN` and `Infinity` readable. */
export function showValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : quote(value);
}

/** A validation problem about `field`, with code `QMTL_INVALID_ARGUMENT`. */
export function invalid(field: string, rule: string, value: unknown): Problem {
  return { code: ErrorCode.InvalidArgument, message: `${field} must be ${rule}, got ${showValue(value)}` };
}

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** Fills in the defaults of {@link GarchOptions} and lists every problem with the result. */
export function resolveGarchOptions(options: GarchOptions): {
  options: ResolvedGarchOptions;
  problems: Problem[];
} {
  const resolved: ResolvedGarchOptions = {
    ...GARCH_DEFAULTS,
    ...definedFields(options),
  } as ResolvedGarchOptions;
  const { seed, startPrice, mu, omega, alpha, beta, stepsPerBar, baseVolume } = resolved;
  const problems: Problem[] = [];
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
    problems.push(invalid('seed', 'a safe integer', seed));
  if (!isFiniteNumber(startPrice) || startPrice <= 0)
    problems.push(invalid('startPrice', 'a finite number > 0', startPrice));
  if (!isFiniteNumber(mu)) problems.push(invalid('mu', 'a finite number', mu));
  if (!isFiniteNumber(omega) || omega <= 0) problems.push(invalid('omega', 'a finite number > 0', omega));
  if (!isFiniteNumber(alpha) || alpha < 0) problems.push(invalid('alpha', 'a finite number >= 0', alpha));
  if (!isFiniteNumber(beta) || beta < 0) problems.push(invalid('beta', 'a finite number >= 0', beta));
  if (isFiniteNumber(alpha) && isFiniteNumber(beta) && alpha + beta >= 1) {
    problems.push({
      code: ErrorCode.InvalidArgument,
      message: `alpha + beta must be < 1 for a stationary GARCH(1,1), got alpha = ${alpha}, beta = ${beta} (sum ${alpha + beta})`,
    });
  }
  if (typeof stepsPerBar !== 'number' || !Number.isSafeInteger(stepsPerBar) || stepsPerBar <= 0) {
    problems.push(invalid('stepsPerBar', 'a positive integer', stepsPerBar));
  }
  if (!isFiniteNumber(baseVolume) || baseVolume <= 0)
    problems.push(invalid('baseVolume', 'a finite number > 0', baseVolume));
  return { options: resolved, problems };
}

/** The fields of `options` that are not `undefined`, so spreading them keeps the defaults. */
function definedFields<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
