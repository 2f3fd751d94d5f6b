import {
  DataType,
  DateUnit,
  Field,
  Precision,
  Schema,
  Table,
  TimeUnit,
  vectorFromArray,
  type Int,
  type Vector,
} from 'apache-arrow';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { epochUnitOf, formatTime } from '../common/time.js';
import type { HistoryRow } from '../sdk/history/protocols.js';
import { tableFromRows } from './arrow-columns.js';

/** A value no column of the type can hold. */
const NOT_HELD = Symbol('not held');

/** The latest time a nanosecond timestamp holds, in ms (2^63 - 1 ns, in 2262). */
const MAX_NANOSECOND_MS = 9_223_372_036_854;

/**
 * Appends `rows` to `table` in the table's own schema: every column keeps its type, its cells and
 * its metadata (the schema's too), so a fill never turns an Int32 into a Float64 or a
 * `timestamp[us]` into seconds. The time column gets each row's `ts` in its own representation:
 * a timestamp or date, a number in the unit its values already have (seconds, ms, µs or ns),
 * or an ISO-8601 string. Columns the rows bring that the table lacks are added at the end, typed
 * as `writeArrow` types them and null in the table's rows. A missing or null value is a null
 * (a column marked non-nullable, as `writeArrow` marks columns without nulls, becomes nullable).
 *
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` naming the row's ts, the column, its type and the value
 * when a value cannot be held by its column (an Int32 given 1.5, a Float32 given 1e40, a string
 * for a number, a number for a timestamp column, which takes Dates).
 */
export function appendRows(table: Table, rows: readonly HistoryRow[], timeColumn: string): Table {
  const columns: [string, Vector][] = [];
  const fields: Field[] = [];
  for (const field of table.schema.fields) {
    const held = table.getChild(field.name) as Vector;
    const toCell = field.name === timeColumn ? timeCells(field, held) : (row: HistoryRow) => row[field.name];
    const cells = rows.map((row) => cellOf(field, toCell(row), row.ts));
    // A file holds one dictionary per column, so a dictionary column is built again as a whole.
    const vector = DataType.isDictionary(field.type)
      ? vectorFromArray([...held, ...cells], field.type)
      : held.concat(vectorFromArray(cells, field.type));
    columns.push([field.name, vector]);
    fields.push(!field.nullable && cells.includes(null) ? field.clone({ nullable: true }) : field);
  }
  for (const [name, vector] of newColumns(table, rows, timeColumn)) {
    columns.push([name, vectorFromArray(new Array(table.numRows).fill(null), vector.type).concat(vector)]);
    fields.push(new Field(name, vector.type, true));
  }
  // fromEntries (not assignment) so a column named __proto__ stays a plain column.
  return new Table(new Schema(fields, table.schema.metadata), Object.fromEntries(columns));
}

/** The columns of the rows' fields the table lacks, typed by their values as `writeArrow` does. */
function newColumns(table: Table, rows: readonly HistoryRow[], timeColumn: string): [string, Vector][] {
  const known = new Set([...table.schema.fields.map((field) => field.name), 'ts', timeColumn]);
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((name) => !known.has(name));
  if (names.length === 0) return [];
  const projected = rows.map(
    (row) => Object.fromEntries([['ts', row.ts], ...names.map((name) => [name, row[name]])]) as HistoryRow,
  );
  const typed = tableFromRows(projected, 'ts', names);
  return names.map((name) => [name, typed.getChild(name) as Vector]);
}

/** How a row's `ts` (epoch seconds) is written in a time column of `field`'s type. */
function timeCells(field: Field, held: Vector): (row: HistoryRow) => unknown {
  const type = valueType(field.type as DataType);
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return (row) => new Date(row.ts * 1000);
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return (row) => formatTime(row.ts);
  if (DataType.isInt(type) || DataType.isFloat(type)) {
    const unit = numericTimeUnit(held);
    return (row) => row.ts * unit;
  }
  return (row) => row.ts;
}

/** Units per second of a numeric time column, from its first value (seconds when it has none). */
function numericTimeUnit(held: Vector): number {
  for (const value of held as Iterable<unknown>)
    if (typeof value === 'number' || typeof value === 'bigint') return epochUnitOf(Number(value));
  return 1;
}

/** `value` as a cell of `field`, or an error naming the column and the value. */
function cellOf(field: Field, value: unknown, ts: number): unknown {
  if (value === null || value === undefined) return null;
  const type = valueType(field.type as DataType);
  const cell = convert(type, value);
  if (cell === NOT_HELD) throw refusal(field, value, ts, `it takes ${takes(type)}`);
  return cell;
}

/** The type of a column's values: a dictionary's value type, else the type itself. */
function valueType(type: DataType): DataType {
  return DataType.isDictionary(type) ? valueType(type.dictionary as DataType) : type;
}

function convert(type: DataType, value: unknown): unknown {
  if (DataType.isInt(type)) return integer(type, value);
  if (DataType.isFloat(type)) return float(type.precision, value);
  if (DataType.isBool(type)) return typeof value === 'boolean' ? value : NOT_HELD;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type))
    return typeof value === 'string' ? value : NOT_HELD;
  if (DataType.isTimestamp(type)) return timestamp(type.unit, value);
  if (DataType.isDate(type)) return date(type.unit, value);
  return NOT_HELD;
}

/** An integer within the type's range: a number for up to 32 bits, a bigint for 64. */
function integer(type: Int, value: unknown): number | bigint | typeof NOT_HELD {
  let n: bigint;
  if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
  else if (typeof value === 'bigint') n = value;
  else return NOT_HELD;
  const [min, max] = integerRange(type);
  if (n < min || n > max) return NOT_HELD;
  return type.bitWidth === 64 ? n : Number(n);
}

function integerRange(type: Int): [bigint, bigint] {
  const bits = BigInt(type.bitWidth);
  return type.isSigned ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

/** A number within the precision's range (rounded to it); NaN and ±Infinity are floats too. */
function float(precision: Precision, value: unknown): number | typeof NOT_HELD {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint' && BigInt(Number(value)) === value) n = Number(value);
  else return NOT_HELD;
  if (!Number.isFinite(n)) return n;
  if (precision === Precision.HALF) return Math.abs(n) <= 65_504 ? n : NOT_HELD;
  if (precision === Precision.SINGLE) return Number.isFinite(Math.fround(n)) ? n : NOT_HELD;
  return n;
}

/** A Date the unit can hold, as the epoch ms Arrow's timestamp builder takes. */
function timestamp(unit: TimeUnit, value: unknown): number | typeof NOT_HELD {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return NOT_HELD;
  const ms = value.getTime();
  if (unit === TimeUnit.SECOND && ms % 1000 !== 0) return NOT_HELD;
  if (unit === TimeUnit.NANOSECOND && Math.abs(ms) > MAX_NANOSECOND_MS) return NOT_HELD;
  return ms;
}

/** A Date the unit can hold: midnight UTC for days. */
function date(unit: DateUnit, value: unknown): Date | typeof NOT_HELD {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) return NOT_HELD;
  return unit === DateUnit.DAY && value.getTime() % 86_400_000 !== 0 ? NOT_HELD : value;
}

/** What a column of `type` takes, for error messages. */
function takes(type: DataType): string {
  if (DataType.isInt(type)) {
    const [min, max] = integerRange(type);
    return `integers from ${min} to ${max}`;
  }
  if (DataType.isFloat(type))
    return type.precision === Precision.HALF
      ? 'numbers within ±65504'
      : type.precision === Precision.SINGLE
        ? 'numbers within ±3.4e38'
        : 'numbers';
  if (DataType.isBool(type)) return 'booleans';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'strings';
  if (DataType.isTimestamp(type))
    return type.unit === TimeUnit.SECOND
      ? 'Dates on whole seconds'
      : type.unit === TimeUnit.NANOSECOND
        ? 'Dates from 1677 to 2262'
        : 'Dates';
  if (DataType.isDate(type)) return type.unit === DateUnit.DAY ? 'Dates at midnight UTC' : 'Dates';
  return 'only nulls from a fill (this provider writes no other value of this type)';
}

function refusal(field: Field, value: unknown, ts: number, reason: string): QmtlError {
  return new QmtlError(
    ErrorCode.InvalidArgument,
    `row at ts ${ts} (${formatTime(ts)}): column ${quote(field.name)} (${String(field.type)}) cannot hold ${quote(value)}; ${reason}`,
  );
}
