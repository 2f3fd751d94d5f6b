import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/** Shows a value in a message; unlike `quote`, keeps `NaN` and `Infinity` readable. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : quote(value);
}

/**
 * Checks an indicator's period: a positive integer.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `SMA period must be a positive integer, got 0`.
 */
export function assertPeriod(indicator: string, period: unknown): number {
  if (typeof period === 'number' && Number.isSafeInteger(period) && period > 0) return period;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `${indicator} period must be a positive integer, got ${show(period)}`,
  );
}

/**
 * Checks one input of an indicator: a finite number.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `EMA input must be a finite number, got NaN`.
 */
export function assertInput(indicator: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `${indicator} input must be a finite number, got ${show(value)}`,
    );
  }
}

/**
 * Checks the named fields of a bar input: each a finite number.
 * @throws QmtlError `QMTL_INVALID_ARGUMENT`, e.g. `ATR input high must be a finite number, got NaN`.
 */
export function assertBar<F extends string>(
  indicator: string,
  bar: unknown,
  fields: readonly F[],
): asserts bar is Record<F, number> {
  if (typeof bar !== 'object' || bar === null) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `${indicator} input must be a bar with ${fields.join(', ')}, got ${show(bar)}`,
    );
  }
  for (const field of fields) {
    const value = (bar as Record<string, unknown>)[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `${indicator} input ${field} must be a finite number, got ${show(value)}`,
      );
    }
  }
}
