import { ErrorCode, QmtlError, quote } from './errors.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A bar interval: positive integer seconds, or `"<n>s" | "<n>m" | "<n>h" | "<n>d"`. */
export type IntervalLike = number | string;

/**
 * Parses an interval (SPEC §2.1) into positive integer seconds.
 * @example parseInterval('5m') // 300
 */
export function parseInterval(value: unknown, what = 'interval'): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new QmtlError(
      ErrorCode.InvalidInterval,
      `${what} must be a positive integer number of seconds, got ${quote(value)}`,
    );
  }
  if (typeof value === 'string') {
    if (/^\d+M$/.test(value.trim())) {
      throw new QmtlError(
        ErrorCode.InvalidInterval,
        `${what} ${quote(value)} is ambiguous: "M" means months in many exchange APIs; write "${value.trim().slice(0, -1)}m" for minutes (months are not an interval here)`,
      );
    }
    const match = /^(\d+)([smhd])$/.exec(value.trim().toLowerCase());
    if (match) {
      const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
      if (seconds > 0 && Number.isSafeInteger(seconds)) return seconds;
    }
    throw new QmtlError(
      ErrorCode.InvalidInterval,
      `${what} must look like "60s", "5m", "1h" or "1d", got ${quote(value)}`,
    );
  }
  throw new QmtlError(
    ErrorCode.InvalidInterval,
    `${what} must be a number of seconds or a string like "5m", got ${quote(value)}`,
  );
}

/** Parses a period (SPEC §2.1): a positive integer number of bars. */
export function parsePeriod(value: unknown, what = 'period'): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new QmtlError(
    ErrorCode.InvalidPeriod,
    `${what} must be a positive integer number of bars, got ${quote(value)}`,
  );
}

/** The start of the bucket that holds `timestamp`: `t - t % interval`. */
export function bucketOf(timestamp: number, interval: number): number {
  return timestamp - (((timestamp % interval) + interval) % interval);
}
