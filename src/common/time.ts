import { ErrorCode, QmtlError, quote } from './errors.js';

/** A point in time: epoch seconds, an ISO-8601 string, a string of digits, or a `Date`. */
export type TimeLike = number | string | Date;

/** Epoch seconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z: the times {@link parseTime} accepts. */
export const MIN_TIME = -62_135_596_800;
export const MAX_TIME = 253_402_300_799;

/**
 * Converts a {@link TimeLike} into integer epoch seconds (SPEC §3.5), from year 1 to year 9999.
 * A number past year 9999 that is a time as epoch milliseconds (e.g. `Date.now()`) is refused
 * with that hint: read as seconds, it would name a year tens of thousands of years away.
 * @example parseTime('2024-01-01T00:00:00Z') // 1704067200
 */
export function parseTime(value: unknown, what = 'time'): number {
  const time = epochSeconds(value);
  if (time === null) {
    throw new QmtlError(
      ErrorCode.InvalidTime,
      `${what} must be epoch seconds, an ISO-8601 date such as "2024-01-01T00:00:00Z", or a Date; got ${quote(value)}`,
    );
  }
  if (time < MIN_TIME || time > MAX_TIME) {
    const asMilliseconds = Math.floor(time / 1000);
    const hint =
      asMilliseconds >= MIN_TIME && asMilliseconds <= MAX_TIME
        ? `; it looks like epoch milliseconds (${formatTime(asMilliseconds)}): give seconds`
        : '';
    throw new QmtlError(
      ErrorCode.InvalidTime,
      `${what} must be between year 1 and year 9999, got ${quote(value)}${hint}`,
    );
  }
  return time;
}

/** The whole epoch seconds of a {@link TimeLike}, or null when it is none. */
function epochSeconds(value: unknown): number | null {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return seconds(value);
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isFinite(ms)) return seconds(ms / 1000);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return seconds(Number(text));
    // Four-digit years, or the six-digit signed years of ISO-8601 (refused by the range check).
    const date = /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})/.exec(text);
    if (date !== null) {
      // A date-time without a zone is UTC, never the machine's local time.
      const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
      const ms = Date.parse(zoned);
      if (Number.isFinite(ms) && isRealDate(Number(date[1]), Number(date[2]), Number(date[3])))
        return seconds(ms / 1000);
    }
  }
  return null;
}

/**
 * Whole epoch seconds of a numeric timestamp in a data file, its unit told by its magnitude:
 * seconds below 1e11 (until year 5138), milliseconds below 1e14, microseconds below 1e17 (what
 * pandas writes for `datetime64[us]`), nanoseconds above.
 */
export function epochSecondsOfNumber(value: number): number {
  return seconds(value / epochUnitOf(value));
}

/**
 * How many of its units a numeric timestamp counts per second, told by its magnitude as in
 * {@link epochSecondsOfNumber}: 1 (seconds), 1e3 (ms), 1e6 (µs) or 1e9 (ns). Writers use it to
 * add times to a file in the unit its times already have.
 */
export function epochUnitOf(value: number): 1 | 1e3 | 1e6 | 1e9 {
  const magnitude = Math.abs(value);
  return magnitude < 1e11 ? 1 : magnitude < 1e14 ? 1e3 : magnitude < 1e17 ? 1e6 : 1e9;
}

/** Whole epoch seconds (never -0). */
function seconds(value: number): number {
  return Math.floor(value) + 0;
}

/**
 * Whether a calendar date exists. Date.parse rolls impossible dates forward (2024-02-30 →
 * 2024-03-01), so every parser of dates checks this. The year is set on its own, since Date.UTC
 * reads years 0–99 as 1900–1999.
 */
export function isRealDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Formats epoch seconds as an ISO-8601 UTC string without milliseconds; a time a `Date` cannot
 * hold (beyond ±275,760 years, or not finite) as `"<n> s since epoch"`, so error messages never throw.
 */
export function formatTime(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  if (Number.isNaN(date.getTime())) return `${epochSeconds} s since epoch`;
  return date.toISOString().replace('.000Z', 'Z');
}
