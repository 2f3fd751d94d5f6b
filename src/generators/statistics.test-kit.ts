import { expect } from 'vitest';

/** A Monte Carlo estimate and its standard error. */
export interface Estimate {
  readonly value: number;
  readonly standardError: number;
}

/** The sample mean of `xs` with its standard error s/√n (independent draws). */
export function meanOf(xs: ArrayLike<number>): Estimate {
  const n = xs.length;
  let sum = 0;
  for (let i = 0; i < n; i += 1) sum += xs[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i += 1) squares += (xs[i]! - mean) ** 2;
  return { value: mean, standardError: Math.sqrt(squares / (n - 1) / n) };
}

/** The mean of `xs` with a standard error from `batches` batch means, for autocorrelated series. */
export function batchMeanOf(xs: ArrayLike<number>, batches: number): Estimate {
  const size = Math.floor(xs.length / batches);
  const means = Array.from({ length: batches }, (_, b) => {
    let sum = 0;
    for (let i = b * size; i < (b + 1) * size; i += 1) sum += xs[i]!;
    return sum / size;
  });
  return meanOf(means);
}

/**
 * Asserts that `estimate` is within `sigmas` standard errors of `expected` (a false alarm has
 * probability 6·10⁻⁵ at 4σ), and that the standard error is below `maxRelativeError · |expected|`
 * so the check has the power to catch a wrong model.
 */
export function expectNear(estimate: Estimate, expected: number, maxRelativeError: number, sigmas = 4): void {
  expect(estimate.standardError).toBeLessThan(maxRelativeError * Math.abs(expected));
  expect(Math.abs(estimate.value - expected)).toBeLessThan(sigmas * estimate.standardError);
}

/** The error thrown by `action`. */
export function errorOf<E = Error>(action: () => unknown): E {
  try {
    action();
  } catch (error) {
    return error as E;
  }
  throw new Error('expected an error');
}
