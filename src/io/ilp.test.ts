import { describe, expect, it } from 'vitest';
import { thrownBy } from '../common/errors.test-kit.js';
import { ErrorCode } from '../common/errors.js';
import {
  escapeKey,
  escapeMeasurement,
  formatIlpField,
  formatIlpLine,
  formatIlpString,
  ilpLineTime,
  ilpTimestamp,
} from './ilp.js';

describe('ILP escaping', () => {
  it('escapes backslash, comma, space and equals sign in measurements (QuestDB misreads a bare =)', () => {
    expect(escapeMeasurement('btc 1m,a=b\\c')).toBe('btc\\ 1m\\,a\\=b\\\\c');
  });

  it('escapes backslash, comma, equals sign and space in tag keys, tag values and field keys', () => {
    expect(escapeKey('a b,c=d\\e')).toBe('a\\ b\\,c\\=d\\\\e');
  });

  it('rejects empty names and line breaks or NUL in names', () => {
    expect(thrownBy(() => escapeKey('')).code).toBe(ErrorCode.InvalidArgument);
    expect(thrownBy(() => escapeKey('a\nb', 'tag value')).message).toBe(
      'ILP tag value "a\\nb" must be non-empty and have no line breaks or NUL characters',
    );
    expect(() => escapeMeasurement('t\r')).toThrow(/no line breaks/);
    expect(() => escapeKey('a\0b', 'tag value')).toThrow(/NUL/);
  });

  it('refuses a NUL character in a string field, naming the field (found by the QuestDB property test)', () => {
    expect(thrownBy(() => formatIlpField('a\0b', 'note')).message).toBe(
      'field "note" has a NUL character, which ILP cannot carry: "a\\u0000b"',
    );
  });

  it('quotes strings, escaping quotes, backslashes and line breaks with a backslash', () => {
    expect(formatIlpString('say "hi" \\ now\nnext')).toBe('"say \\"hi\\" \\\\ now\\\nnext"');
    expect(formatIlpString('')).toBe('""');
  });
});

describe('formatIlpField', () => {
  it('writes numbers as floats, bigints as integers, booleans as t/f and Dates as microseconds', () => {
    expect(formatIlpField(1.5, 'x')).toBe('1.5');
    expect(formatIlpField(2, 'x')).toBe('2');
    expect(formatIlpField(-1e-7, 'x')).toBe('-1e-7');
    expect(formatIlpField(60n, 'x')).toBe('60i');
    expect(formatIlpField(true, 'x')).toBe('t');
    expect(formatIlpField(false, 'x')).toBe('f');
    expect(formatIlpField(new Date(1500), 'x')).toBe('1500000t');
  });

  it("refuses a bigint outside QuestDB's LONG, whose batch QuestDB would reject (and -2^63, its null)", () => {
    expect(formatIlpField(2n ** 63n - 1n, 'x')).toBe('9223372036854775807i');
    expect(formatIlpField(1n - 2n ** 63n, 'x')).toBe('-9223372036854775807i');
    for (const value of [2n ** 63n, -(2n ** 63n), 2n ** 70n]) {
      expect(() => formatIlpField(value, 'size')).toThrow(
        `field "size" is ${value}n, outside QuestDB's LONG (-(2^63 - 1) to 2^63 - 1)`,
      );
    }
  });

  it('leaves out null, undefined and non-finite numbers', () => {
    expect([null, undefined, NaN, Infinity].map((v) => formatIlpField(v, 'x'))).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });

  it('rejects objects, naming the field', () => {
    expect(thrownBy(() => formatIlpField({ a: 1 }, 'meta')).message).toContain(
      'field "meta" has value {"a":1}',
    );
  });
});

describe('ilpTimestamp', () => {
  it('turns epoch seconds into exact nanoseconds beyond 2^53', () => {
    expect(ilpTimestamp(1_700_000_040)).toBe('1700000040000000000');
    expect(ilpTimestamp(0.5)).toBe('500000000');
    expect(ilpTimestamp(9_223_372_036)).toBe('9223372036000000000');
  });

  it('refuses what QuestDB cannot store as a designated timestamp: before 1970, past 2262, not finite', () => {
    for (const seconds of [NaN, Infinity, -60, 9_223_372_037]) {
      expect(() => ilpTimestamp(seconds)).toThrow(
        `timestamp must be epoch seconds from 0 (1970-01-01) to 9223372036 (2262-04-11), what QuestDB stores over ILP; got ${seconds}`,
      );
    }
  });
});

describe('formatIlpLine', () => {
  it('formats measurement, tags, fields and timestamp with a trailing newline', () => {
    const line = formatIlpLine(
      'btc bars',
      { node_id: 'a,b' },
      { interval: 60n, close: 101.5, note: 'x y', missing: null },
      60,
    );
    expect(line).toBe('btc\\ bars,node_id=a\\,b interval=60i,close=101.5,note="x y" 60000000000\n');
  });

  it('needs at least one field with a value', () => {
    expect(() => formatIlpLine('t', {}, { a: null }, 0)).toThrow(
      'ILP line for "t" has no field with a value',
    );
  });
});

describe('ilpLineTime', () => {
  it('reads back the time of a line, whatever spaces and line breaks its strings hold', () => {
    const line = formatIlpLine('t', { node_id: 'a b' }, { note: 'x 1 "y"\n2', v: 1 }, 1_700_000_040.25);
    expect(ilpLineTime(line)).toBe(1_700_000_040.25);
    expect(ilpLineTime(formatIlpLine('t', {}, { v: 1 }, 9_223_372_036))).toBe(9_223_372_036);
  });
});
