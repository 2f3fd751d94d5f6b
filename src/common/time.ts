import { ErrorCode, QmtlError, quote } from './errors.js';

/** A point in time: epoch seconds, an ISO-8601 string, a string of digits, or a `Date`. */
export type TimeLike = number | string | Date;

/**
 * Converts a {@link TimeLike} into integer epoch seconds (SPEC §3.5).
 * @example parseTime('2024-01-01T00:00:00Z') // 1704067200
 */
export function parseTime(value: unknown, what = 'time'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return seconds(value);
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isFinite(ms)) return seconds(ms / 1000);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return seconds(Number(text));
    // Four-digit years, or the six-digit signed years of ISO-8601 that formatTime writes past 9999.
    const date = /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})/.exec(text);
    if (date !== null) {
      // A date-time without a zone is UTC, never the machine's local time.
      const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
      const ms = Date.parse(zoned);
      if (Number.isFinite(ms) && isRealDate(Number(date[1]), Number(date[2]), Number(date[3])))
        return seconds(ms / 1000);
    }
  }
  throw new QmtlError(
    ErrorCode.InvalidTime,
    `${what} must be epoch seconds, an ISO-8601 date such as "2024-01-01T00:00:00Z", or a Date; got ${quote(value)}`,
  );
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

/** Formats epoch seconds as an ISO-8601 UTC string without milliseconds. */
export function formatTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
