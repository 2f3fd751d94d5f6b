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
 * Checks the named fields of a bar input: each a finite number, and, among those read, the bar
 * consistent: `low <= high`, with `open` and `close` within [low, high] (an inverted or
 * overshooting bar gives meaningless ranges: a negative true range, a %K above 100).
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
  // Every field read is a finite number by now; the range checks need both ends of the bar.
  if (!fields.includes('high' as F) || !fields.includes('low' as F)) return;
  const prices = bar as Record<'open' | 'high' | 'low' | 'close', number>;
  const { high, low } = prices;
  if (low > high) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `${indicator} input is not a consistent bar: low ${low} is above high ${high}`,
    );
  }
  for (const field of ['open', 'close'] as const) {
    const value = prices[field];
    if (fields.includes(field as F) && !(value >= low && value <= high)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `${indicator} input is not a consistent bar: ${field} ${value} is outside [low ${low}, high ${high}]`,
      );
    }
  }
}
