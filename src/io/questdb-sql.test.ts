import { describe, expect, it } from 'vitest';
import { thrownBy } from '../common/errors.test-kit.js';
import { ErrorCode } from '../common/errors.js';
import {
  addColumnSql,
  columnTypeOf,
  createTableSql,
  insertSql,
  quoteIdentifier,
  selectRangeSql,
  toMicros,
} from './questdb-sql.js';

describe('quoteIdentifier', () => {
  it('double-quotes names QuestDB accepts, spaces and hex node ids included', () => {
    expect(quoteIdentifier('btc 1m', 'table')).toBe('"btc 1m"');
    expect(quoteIdentifier('a1b2c3', 'table')).toBe('"a1b2c3"');
    expect(quoteIdentifier('trades.2024', 'table')).toBe('"trades.2024"');
    expect(quoteIdentifier('close', 'column')).toBe('"close"');
  });

  it('rejects names that could break out of the quotes or that QuestDB refuses', () => {
    const hostile = 'bars"; DROP TABLE victim; --';
    const error = thrownBy(() => quoteIdentifier(hostile, 'table'));
    expect(error.code).toBe(ErrorCode.InvalidArgument);
    expect(error.message).toBe(
      `QuestDB table name ${JSON.stringify(hostile)} contains "\\"", which QuestDB does not allow`,
    );
    for (const name of ["a'b", 'a\\b', 'a/b', 'a\nb', 'a(b', 'a*b', '', '   ', 'x'.repeat(128)]) {
      expect(() => quoteIdentifier(name, 'table'), name).toThrow();
    }
    expect(() => quoteIdentifier('.hidden', 'table')).toThrow(/start or end/);
    expect(() => quoteIdentifier(' btc', 'table')).toThrow(
      'QuestDB table name " btc" starts or ends with white space, which QuestDB does not allow',
    );
    expect(() => quoteIdentifier('close ', 'column')).toThrow(/ends with white space/);
    expect(() => quoteIdentifier('a-b', 'column')).toThrow(/"-"/);
    expect(() => quoteIdentifier('a.b', 'column')).toThrow(/"\."/);
  });
});

describe('SQL building', () => {
  const key = { nodeId: 'btc', interval: 60 };

  it('creates the table with ts as designated timestamp and dedup on the stream key', () => {
    expect(createTableSql('bars')).toBe(
      'CREATE TABLE IF NOT EXISTS "bars" ("node_id" SYMBOL, "interval" LONG, "ts" TIMESTAMP) ' +
        'TIMESTAMP("ts") PARTITION BY DAY WAL DEDUP UPSERT KEYS("ts", "node_id", "interval")',
    );
    expect(addColumnSql('bars', 'close', 'DOUBLE')).toBe('ALTER TABLE "bars" ADD COLUMN "close" DOUBLE');
  });

  it('selects a half-open range with every value a parameter, bounds in microseconds', () => {
    expect(selectRangeSql('bars', key, { start: 60, end: 180 })).toEqual({
      text:
        'SELECT * FROM "bars" WHERE "node_id" = $1 AND "interval" = $2 AND "ts" >= cast($3 AS TIMESTAMP) ' +
        'AND "ts" < cast($4 AS TIMESTAMP) ORDER BY "ts"',
      values: ['btc', 60, 60_000_000, 180_000_000],
    });
  });

  it('leaves infinite bounds out and selects the columns given', () => {
    expect(selectRangeSql('bars', key, { start: -Infinity, end: Infinity }).text).toBe(
      'SELECT * FROM "bars" WHERE "node_id" = $1 AND "interval" = $2 ORDER BY "ts"',
    );
    const columns = selectRangeSql('bars', key, { start: -Infinity, end: 120 }, { columns: '"ts"' });
    expect(columns).toEqual({
      text: 'SELECT "ts" FROM "bars" WHERE "node_id" = $1 AND "interval" = $2 AND "ts" < cast($3 AS TIMESTAMP) ORDER BY "ts"',
      values: ['btc', 60, 120_000_000],
    });
  });

  it('inserts several rows with numbered parameters and casts timestamps', () => {
    const types = new Map([
      ['ts', 'TIMESTAMP'],
      ['close', 'DOUBLE'],
    ] as const);
    expect(insertSql('bars', ['node_id', 'interval', 'ts', 'close'], types, 2)).toBe(
      'INSERT INTO "bars" ("node_id", "interval", "ts", "close") VALUES ' +
        '($1, $2, cast($3 AS TIMESTAMP), $4), ($5, $6, cast($7 AS TIMESTAMP), $8)',
    );
  });

  it('maps field values to column types', () => {
    expect([1.5, 2n, true, 'x', new Date(0), null, undefined].map((v) => columnTypeOf(v, 'f'))).toEqual([
      'DOUBLE',
      'LONG',
      'BOOLEAN',
      'VARCHAR',
      'TIMESTAMP',
      null,
      null,
    ]);
    expect(() => columnTypeOf([1], 'list')).toThrow(/field "list" has value \[1\]/);
  });

  it('converts seconds to integer microseconds', () => {
    expect(toMicros(1_700_000_040)).toBe(1_700_000_040_000_000);
    expect(toMicros(0.0000015)).toBe(2);
  });
});
