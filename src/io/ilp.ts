import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/**
 * InfluxDB line protocol (ILP), as QuestDB reads it:
 * `measurement,tag=value field=1.5,n=3i,s="text",b=t 1700000000000000000\n`.
 * Pure formatting; {@link QuestDBRecorder} batches the lines and a sender ships them.
 * @module
 */

function checkName(name: string, what: string): void {
  if (name === '' || /[\n\r\0]/.test(name)) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `ILP ${what} ${quote(name)} must be non-empty and have no line breaks or NUL characters`,
    );
  }
}

/**
 * Escapes a measurement (table) name: backslash, comma, space and equals sign. Line protocol
 * leaves `=` in a measurement as is, but QuestDB then misreads the line ("No fields were
 * provided") and rejects its whole batch; `\=` it reads as `=`.
 */
export function escapeMeasurement(name: string): string {
  checkName(name, 'measurement');
  return name.replace(/[\\,= ]/g, '\\$&');
}

/** Escapes a tag key, tag value or field key: backslash, comma, equals sign and space. */
export function escapeKey(name: string, what = 'name'): string {
  checkName(name, what);
  return name.replace(/[\\,= ]/g, '\\$&');
}

/**
 * Formats a string field value: double-quoted, with `"`, `\` and line breaks escaped by a
 * backslash (QuestDB keeps an escaped line break as part of the string). A NUL character has no
 * ILP form (QuestDB rejects the whole batch it is in), so it is refused here, before batching.
 */
export function formatIlpString(value: string, field = 'string'): string {
  if (value.includes('\0')) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `field ${quote(field)} has a NUL character, which ILP cannot carry: ${quote(value)}`,
    );
  }
  return `"${value.replace(/[\\"\n\r]/g, '\\$&')}"`;
}

/**
 * Formats one field value: numbers as floats, bigints as integers (`i`), booleans as `t`/`f`,
 * strings quoted, Dates as microsecond timestamps (`t`). Returns null for `null`, `undefined`
 * and non-finite numbers, which are left out of the line (QuestDB then stores null). Throws for
 * objects and functions.
 */
export function formatIlpField(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  // Without the `i` suffix ILP reads any number, whole or not, as a float: the column stays DOUBLE.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'bigint') return formatIlpInteger(value, field);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'string') return formatIlpString(value, field);
  if (value instanceof Date && Number.isFinite(value.getTime())) return `${value.getTime() * 1000}t`;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `field ${quote(field)} has value ${quote(value)}; ILP fields must be numbers, bigints, booleans, strings or Dates`,
  );
}

/** QuestDB's LONG: a signed 64-bit integer whose smallest value means null. */
const MAX_LONG = 2n ** 63n - 1n;

/**
 * Formats a bigint as an ILP integer (`i`). QuestDB rejects one outside a LONG with the whole batch
 * it is in, and stores -2^63 as null, so those are refused here, before batching.
 */
function formatIlpInteger(value: bigint, field: string): string {
  if (value > MAX_LONG || value < -MAX_LONG) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `field ${quote(field)} is ${value}n, outside QuestDB's LONG (-(2^63 - 1) to 2^63 - 1)`,
    );
  }
  return `${value}i`;
}

/**
 * Epoch seconds → integer epoch nanoseconds as ILP text (beyond 2^53, so computed in bigint),
 * at most 2^63 - 1 ns (2262-04-11T23:47:16.854775807Z). QuestDB rejects a designated timestamp before 1970 or past 2262-04-11 with the whole batch it
 * is in, so those are refused here, before batching.
 */
export function ilpTimestamp(seconds: number): string {
  const nanos = Number.isFinite(seconds) ? BigInt(Math.round(seconds * 1_000_000)) * 1000n : null;
  if (nanos === null || nanos < 0n || nanos > MAX_LONG) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `timestamp must be epoch seconds from 0 (1970-01-01) to 9223372036 (2262-04-11), what QuestDB stores over ILP; got ${quote(seconds)}`,
    );
  }
  return nanos.toString();
}

/**
 * One ILP line, with its trailing newline. Fields whose value is absent are left out; a line
 * needs at least one field. Tags come first, in the order given.
 * @example
 * formatIlpLine('bars', { node_id: 'btc' }, { interval: 60n, close: 101.5 }, 60)
 * // 'bars,node_id=btc interval=60i,close=101.5 60000000000\n'
 */
export function formatIlpLine(
  measurement: string,
  tags: Readonly<Record<string, string>>,
  fields: Readonly<Record<string, unknown>>,
  timestampSeconds: number,
): string {
  let line = escapeMeasurement(measurement);
  for (const [key, value] of Object.entries(tags)) {
    line += `,${escapeKey(key, 'tag key')}=${escapeKey(value, 'tag value')}`;
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    const text = formatIlpField(value, key);
    if (text !== null) parts.push(`${escapeKey(key, 'field key')}=${text}`);
  }
  if (parts.length === 0) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `ILP line for ${quote(measurement)} has no field with a value`,
    );
  }
  return `${line} ${parts.join(',')} ${ilpTimestamp(timestampSeconds)}\n`;
}

/**
 * The time of a line {@link formatIlpLine} made, in epoch seconds: its last word, in nanoseconds
 * (field values may hold spaces, but the timestamp always comes last).
 * @example ilpLineTime('bars,node_id=btc close=1 60000000000\n') // 60
 */
export function ilpLineTime(line: string): number {
  const nanos = line.trimEnd().split(' ').at(-1) ?? '';
  return Number(BigInt(nanos) / 1000n) / 1e6;
}
