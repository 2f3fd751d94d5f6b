import {
  Bool,
  DataType,
  Float64,
  Int64,
  Table,
  TimestampMillisecond,
  Utf8,
  makeVector,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { epochSecondsOfNumber } from '../common/time.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import { parseCsvTimestamp } from './csv-format.js';

/**
 * Conversions between Arrow columns and history rows, shared by ArrowHistoryProvider and
 * writeArrow: reading a time column into epoch seconds, reading one cell as a plain JS value,
 * and building a table from rows with one Arrow type per column.
 * @module
 */

/**
 * Reads a time column into integer epoch seconds, column by column (no row objects): Arrow
 * timestamps and dates by their unit; numbers as epoch seconds, milliseconds, microseconds or
 * nanoseconds by their magnitude (as in CSV files); strings as ISO-8601 dates. Returns the index of the first unreadable cell
 * instead of throwing, so the caller can name its file.
 */
export function readTimeColumn(vector: Vector): { ts: Float64Array } | { badRow: number; value: unknown } {
  const ts = new Float64Array(vector.length);
  const type = vector.type as DataType;
  const asMs = DataType.isTimestamp(type) || DataType.isDate(type);
  const plain = DataType.isFloat(type) && vector.nullCount === 0 ? (vector.toArray() as Float64Array) : null;
  for (let i = 0; i < ts.length; i += 1) {
    const value: unknown = plain === null ? vector.get(i) : plain[i];
    let seconds: number | null = null;
    if (typeof value === 'number' || typeof value === 'bigint') {
      const n = Number(value);
      if (Number.isFinite(n)) seconds = asMs ? Math.floor(n / 1000) : epochSecondsOfNumber(n);
    } else if (typeof value === 'string') {
      seconds = parseCsvTimestamp(value);
    } else if (value instanceof Date) {
      seconds = Math.floor(value.getTime() / 1000);
    }
    if (seconds === null || !Number.isFinite(seconds)) return { badRow: i, value };
    ts[i] = seconds;
  }
  return { ts };
}

/**
 * One cell as a plain value: null, number (64-bit integers too, when exact), bigint beyond 2^53,
 * string, boolean, or a Date for timestamp and date columns. Other types come as Arrow gives them.
 */
export function cellValue(vector: Vector, index: number): unknown {
  const value: unknown = vector.get(index);
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  const type = vector.type as DataType;
  if ((DataType.isTimestamp(type) || DataType.isDate(type)) && typeof value === 'number')
    return new Date(value);
  return value;
}

type ColumnKind = 'number' | 'bigint' | 'boolean' | 'string' | 'date';

function kindOf(value: unknown): ColumnKind | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return 'date';
  const type = typeof value;
  if (type === 'number' || type === 'bigint' || type === 'boolean' || type === 'string') return type;
  return null;
}

function arrowTypeOf(kind: ColumnKind | undefined): DataType {
  switch (kind) {
    case 'bigint':
      return new Int64();
    case 'boolean':
      return new Bool();
    case 'string':
      return new Utf8();
    case 'date':
      return new TimestampMillisecond();
    case 'number':
    case undefined:
      return new Float64();
  }
}

/**
 * Builds a table from rows: `timeColumn` first (Float64 epoch seconds, from each row's `ts`), then
 * every other field in order of first appearance (after `extraOrder`), typed by its values:
 * numbers Float64, bigints Int64, booleans Bool, strings Utf8, Dates Timestamp(ms); a column of
 * only nulls is Float64. Throws InvalidArgument for a column that mixes kinds or holds objects.
 */
export function tableFromRows(
  rows: readonly HistoryRow[],
  timeColumn = 'ts',
  extraOrder: readonly string[] = [],
): Table {
  const names = [...new Set([...extraOrder, ...rows.flatMap((row) => Object.keys(row))])].filter(
    (name) => name !== 'ts' && name !== timeColumn,
  );
  const columns: Record<string, Vector> = {
    [timeColumn]: makeVector(Float64Array.from(rows, (row) => row.ts)),
  };
  for (const name of names) {
    let kind: ColumnKind | undefined;
    const values = rows.map((row, index) => {
      const value = row[name];
      const valueKind = kindOf(value);
      if (valueKind === null && value !== null && value !== undefined) {
        throw new QmtlError(
          ErrorCode.InvalidArgument,
          `row ${index}: column ${quote(name)} has value ${quote(value)}; Arrow columns hold numbers, bigints, booleans, strings or Dates`,
        );
      }
      if (valueKind !== null && kind !== undefined && valueKind !== kind) {
        throw new QmtlError(
          ErrorCode.InvalidArgument,
          `row ${index}: column ${quote(name)} mixes ${kind} and ${valueKind} values`,
        );
      }
      kind ??= valueKind ?? undefined;
      return value ?? null;
    });
    columns[name] = vectorFromArray(
      kind === 'date' ? values.map((value) => (value as Date | null)?.getTime() ?? null) : values,
      arrowTypeOf(kind),
    );
  }
  return new Table(columns);
}
