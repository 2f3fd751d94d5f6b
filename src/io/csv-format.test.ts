import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { formatCsvLine, formatCsvValue, parseCsv, parseCsvTimestamp, parseCsvValue } from './csv-format.js';

describe('parseCsv', () => {
  it('splits records and fields with their line numbers', () => {
    expect(parseCsv('a,b\n1,2\n3,4\n')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2'] },
      { line: 3, cells: ['3', '4'] },
    ]);
  });

  it('handles quoted fields with delimiters, doubled quotes and newlines', () => {
    const records = parseCsv('name,note\n"a,b","say ""hi"""\n"multi\nline",x\nlast,y');
    expect(records.map((r) => r.cells)).toEqual([
      ['name', 'note'],
      ['a,b', 'say "hi"'],
      ['multi\nline', 'x'],
      ['last', 'y'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it('accepts CRLF line endings, a BOM, blank lines and a custom delimiter', () => {
    expect(parseCsv('\uFEFFa;b\r\n\r\n1;\r\n', ';')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 3, cells: ['1', ''] },
    ]);
  });

  it('rejects a quoted field that never closes, naming its line', () => {
    expect(() => parseCsv('a\n"open\n')).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message: 'line 2: a quoted field never closes',
      }),
    );
  });
});

describe('parseCsvValue', () => {
  it('turns numbers into numbers and empty cells into null', () => {
    expect(['1', '-2.5', '1e3', '.5', '', '  ', 'abc', '1.2.3', 'NaN'].map(parseCsvValue)).toEqual([
      1,
      -2.5,
      1000,
      0.5,
      null,
      null,
      'abc',
      '1.2.3',
      'NaN',
    ]);
  });
});

describe('parseCsvTimestamp', () => {
  it('reads epoch seconds, milliseconds, microseconds and nanoseconds, told by their magnitude', () => {
    expect(parseCsvTimestamp('1704067200')).toBe(1704067200);
    expect(parseCsvTimestamp('1704067200123')).toBe(1704067200);
    expect(parseCsvTimestamp('1704067200123456')).toBe(1704067200);
    expect(parseCsvTimestamp('1704067200123456789')).toBe(1704067200);
    expect(parseCsvTimestamp('60')).toBe(60);
  });

  it('reads ISO-8601 dates as UTC unless they name a zone', () => {
    expect(parseCsvTimestamp('2024-01-01')).toBe(1704067200);
    expect(parseCsvTimestamp('2024-01-01T00:01:00Z')).toBe(1704067260);
    expect(parseCsvTimestamp('2024-01-01 00:01:00')).toBe(1704067260);
    expect(parseCsvTimestamp('2024-01-01T01:00:00+01:00')).toBe(1704067200);
  });

  it('returns null for anything else', () => {
    expect(['', 'soon', '2024-13-45', '01/02/2024'].map(parseCsvTimestamp)).toEqual([null, null, null, null]);
  });

  it('returns null for a day that does not exist rather than the next one (found by the property test)', () => {
    expect(['2023-02-29', '2024-04-31 10:00:00', '2024-02-30T00:00:00Z'].map(parseCsvTimestamp)).toEqual([
      null,
      null,
      null,
    ]);
    expect(parseCsvTimestamp('2024-02-29')).toBe(1709164800);
  });
});

describe('formatCsvValue', () => {
  it('quotes only what needs quoting', () => {
    expect(formatCsvLine([1, 'plain', null, undefined, true, 'a,b', 'say "hi"', 'two\nlines'])).toBe(
      '1,plain,,,true,"a,b","say ""hi""","two\nlines"',
    );
  });

  it('writes objects as JSON and dates as ISO strings', () => {
    expect(formatCsvValue({ a: 1 })).toBe('"{""a"":1}"');
    expect(formatCsvValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
  });

  it('round-trips through parseCsv', () => {
    const values = ['a,b', 'say "hi"', 'two\nlines', ' padded '];
    expect(parseCsv(`${formatCsvLine(values)}\n`)[0]?.cells).toEqual(values);
  });
});
