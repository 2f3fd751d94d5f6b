import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/**
 * The table layout shared by {@link QuestDBLoader} and {@link QuestDBRecorder}: one row per bar,
 * keyed by the stream (`node_id`, `interval`) and the bucket (`ts`, the designated timestamp);
 * every other column is a field of the bar.
 */
export const QUESTDB_KEY_COLUMNS = ['node_id', 'interval', 'ts'] as const;

/** A QuestDB column type this module creates for a value. */
export type QuestDBColumnType = 'DOUBLE' | 'LONG' | 'BOOLEAN' | 'VARCHAR' | 'TIMESTAMP';

// Characters QuestDB refuses in any table or column name (TableUtils.isValid*Name), plus every
// control character; `"` is among them, so a name that passes can be double-quoted as is.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const FORBIDDEN = /[?,'"\\/:()+*%~\u0000-\u001f\u007f\ufeff]/;
const FORBIDDEN_IN_COLUMN = /[.-]/;
const MAX_NAME_LENGTH = 127;

/**
 * Double-quotes a table or column name for QuestDB SQL after checking it is one QuestDB accepts.
 * Values never go through here: they are always bound parameters.
 * Throws InvalidArgument naming the offending name.
 * @example quoteIdentifier('btc 1m', 'table') // '"btc 1m"'
 */
export function quoteIdentifier(name: string, kind: 'table' | 'column'): string {
  const problem = identifierProblem(name, kind);
  if (problem !== null) {
    throw new QmtlError(ErrorCode.InvalidArgument, `QuestDB ${kind} name ${quote(name)} ${problem}`);
  }
  return `"${name}"`;
}

function identifierProblem(name: unknown, kind: 'table' | 'column'): string | null {
  if (typeof name !== 'string' || name.trim() === '') return 'must be a non-empty string';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (name !== name.trim()) return 'starts or ends with white space, which QuestDB does not allow';
  const bad = FORBIDDEN.exec(name) ?? (kind === 'column' ? FORBIDDEN_IN_COLUMN.exec(name) : null);
  if (bad !== null) return `contains ${quote(bad[0])}, which QuestDB does not allow`;
  if (kind === 'table' && (name.startsWith('.') || name.endsWith('.') || name.includes('..')))
    return 'may not start or end with "." or contain ".."';
  return null;
}

/** The DDL of a history table: the key columns, partitioned by day, deduplicated on the key. */
export function createTableSql(table: string): string {
  const t = quoteIdentifier(table, 'table');
  return (
    `CREATE TABLE IF NOT EXISTS ${t} ("node_id" SYMBOL, "interval" LONG, "ts" TIMESTAMP) ` +
    `TIMESTAMP("ts") PARTITION BY DAY WAL DEDUP UPSERT KEYS("ts", "node_id", "interval")`
  );
}

/** `ALTER TABLE … ADD COLUMN` for one field. */
export function addColumnSql(table: string, column: string, type: QuestDBColumnType): string {
  return `ALTER TABLE ${quoteIdentifier(table, 'table')} ADD COLUMN ${quoteIdentifier(column, 'column')} ${type}`;
}

/** Which bounds a range query has; an infinite bound is left out of the SQL. */
export interface RangeBounds {
  readonly start: number;
  readonly end: number;
}

/**
 * A query of one stream's rows with `start <= ts < end`, ordered by `ts`, with its parameters:
 * `$1` node id, `$2` interval, then the finite bounds in microseconds (clamped to what a TIMESTAMP
 * holds). `columns` is the select list (already quoted), `*` by default.
 */
export function selectRangeSql(
  table: string,
  key: { readonly nodeId: string; readonly interval: number },
  bounds: RangeBounds,
  options: { readonly columns?: string } = {},
): { text: string; values: unknown[] } {
  const values: unknown[] = [key.nodeId, key.interval];
  const where = ['"node_id" = $1', '"interval" = $2'];
  if (Number.isFinite(bounds.start)) {
    values.push(boundMicros(bounds.start));
    where.push(`"ts" >= cast($${values.length} AS TIMESTAMP)`);
  }
  if (Number.isFinite(bounds.end)) {
    values.push(boundMicros(bounds.end));
    where.push(`"ts" < cast($${values.length} AS TIMESTAMP)`);
  }
  const text = `SELECT ${options.columns ?? '*'} FROM ${quoteIdentifier(table, 'table')} WHERE ${where.join(' AND ')} ORDER BY "ts"`;
  return { text, values };
}

/**
 * A query of the rows that start or end a run of one stream's consecutive buckets (the next
 * `ts` is this one plus the interval, or the same), ascending, each as `[ts, previous ts, next
 * ts]` in microseconds (null at either end of the stream). QuestDB finds them with window
 * functions, so coverage transfers two rows per run instead of every row of the stream.
 * Parameters: `$1` node id, `$2` interval, `$3` the interval in microseconds.
 */
export function runBoundariesSql(
  table: string,
  key: { readonly nodeId: string; readonly interval: number },
): { text: string; values: unknown[] } {
  const step = (from: string, to: string): string => `(cast(${to} AS LONG) - cast(${from} AS LONG))`;
  const text =
    `SELECT cast("ts" AS LONG), cast("prev" AS LONG), cast("next" AS LONG) FROM (` +
    `SELECT "ts", lag("ts") OVER (ORDER BY "ts") "prev", lead("ts") OVER (ORDER BY "ts") "next" ` +
    `FROM ${quoteIdentifier(table, 'table')} WHERE "node_id" = $1 AND "interval" = $2) ` +
    `WHERE "prev" IS NULL OR "next" IS NULL ` +
    `OR ${step('"prev"', '"ts"')} NOT IN (0, $3) OR ${step('"ts"', '"next"')} NOT IN (0, $3) ORDER BY "ts"`;
  return { text, values: [key.nodeId, key.interval, toMicros(key.interval)] };
}

/**
 * A multi-row INSERT of `rowCount` rows of `columns` (the key columns first, as in
 * {@link QUESTDB_KEY_COLUMNS}), every value a parameter; timestamps are bound as microseconds.
 */
export function insertSql(
  table: string,
  columns: readonly string[],
  types: ReadonlyMap<string, QuestDBColumnType>,
  rowCount: number,
): string {
  const names = columns.map((column) => quoteIdentifier(column, 'column')).join(', ');
  const tuples: string[] = [];
  for (let row = 0; row < rowCount; row += 1) {
    const params = columns.map((column, index) => {
      const param = `$${row * columns.length + index + 1}`;
      return types.get(column) === 'TIMESTAMP' ? `cast(${param} AS TIMESTAMP)` : param;
    });
    tuples.push(`(${params.join(', ')})`);
  }
  return `INSERT INTO ${quoteIdentifier(table, 'table')} (${names}) VALUES ${tuples.join(', ')}`;
}

/** The column type a field value needs, or null for null/undefined (no column created for it). */
export function columnTypeOf(value: unknown, field: string): QuestDBColumnType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return 'DOUBLE';
  if (typeof value === 'bigint') return 'LONG';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'string') return 'VARCHAR';
  if (value instanceof Date) return 'TIMESTAMP';
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `field ${quote(field)} has value ${quote(value)}; QuestDB fields must be numbers, bigints, booleans, strings or Dates`,
  );
}

/**
 * The largest epoch seconds whose microseconds fit QuestDB's TIMESTAMP (a signed 64-bit count,
 * about ±292,000 years); a bound past it would overflow and match nothing.
 */
const MAX_BOUND_SECONDS = 9_223_372_036_854;

/** A range bound in microseconds, clamped to what a TIMESTAMP holds (every stored row is inside). */
function boundMicros(seconds: number): number {
  return toMicros(Math.min(Math.max(seconds, -MAX_BOUND_SECONDS), MAX_BOUND_SECONDS));
}

/** Epoch seconds → integer epoch microseconds (QuestDB's TIMESTAMP unit). */
export function toMicros(seconds: number): number {
  return Math.round(seconds * 1_000_000);
}
