import { quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { formatTime, isRealDate } from '../common/time.js';

/**
 * The time column of a file's columns: `wanted` when given, else `ts` or `timestamp`. Column
 * names must be non-empty and distinct. Problems go to `fail` as a phrase completing "the file
 * …" (e.g. `repeats column "close"`), which the caller turns into its error.
 */
export function resolveTimeColumn(
  names: readonly string[],
  wanted: string | undefined,
  fail: (problem: string) => never,
): string {
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') fail('has an empty column name');
    if (seen.has(name)) fail(`repeats column ${quote(name)}`);
    seen.add(name);
  }
  const found =
    wanted === undefined
      ? ['ts', 'timestamp'].find((name) => seen.has(name))
      : seen.has(wanted)
        ? wanted
        : undefined;
  if (found !== undefined) return found;
  const expected = wanted === undefined ? '"ts" or "timestamp" column' : `time column ${quote(wanted)}`;
  return fail(`has no ${expected} (columns: ${names.join(', ')})`);
}

/**
 * Warns when a file's first timestamp is an integer that reads as a YYYYMMDD date (19000101 to
 * 21001231): epoch numbers are taken as seconds, so `20240101` is 1970-08-23T06:15:01Z, which is
 * almost never what such a file means. (A warning, not an error: those 23 days of 1970 are valid
 * epoch seconds.)
 */
export function warnOfCompactDates(file: string, column: string, first: unknown): void {
  const value = typeof first === 'string' && /^\s*\d{8}\s*$/.test(first) ? Number(first) : first;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 19000101 || value > 21001231) return;
  const [year, month, day] = [Math.floor(value / 10000), Math.floor(value / 100) % 100, value % 100];
  if (!isRealDate(year, month, day)) return;
  const iso = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  logger.warn(
    { file, column, first: value, readAs: formatTime(value) },
    `timestamps like ${value} look like YYYYMMDD dates but are read as epoch seconds (${formatTime(value)}); write dates as ISO-8601 (${iso})`,
  );
}
