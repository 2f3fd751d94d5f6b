import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { thrownBy } from './errors.test-kit.js';
import { formatTime, MAX_TIME, MIN_TIME, parseTime } from './time.js';

const NEW_YEAR_2024 = 1_704_067_200;

describe('parseTime', () => {
  it.each([
    [NEW_YEAR_2024, NEW_YEAR_2024],
    [NEW_YEAR_2024 + 0.9, NEW_YEAR_2024],
    [0, 0],
    [-1, -1],
  ])('takes the number %d as epoch seconds %i', (value, seconds) => {
    expect(parseTime(value)).toBe(seconds);
  });

  it.each([
    ['1704067200', NEW_YEAR_2024],
    [' 1704067200 ', NEW_YEAR_2024],
    ['1704067200.75', NEW_YEAR_2024],
    ['-60', -60],
  ])('takes the numeric string %j as epoch seconds %i', (value, seconds) => {
    expect(parseTime(value)).toBe(seconds);
  });

  it.each([
    ['2024-01-01T00:00:00Z', NEW_YEAR_2024],
    ['2024-01-01T00:00:00.999Z', NEW_YEAR_2024],
    ['2024-01-01T02:00:00+02:00', NEW_YEAR_2024],
    ['2023-12-31T19:00:00-05:00', NEW_YEAR_2024],
    // python3: datetime.fromisoformat('2024-06-15T12:34:56-05:30').timestamp()
    ['2024-06-15T12:34:56-05:30', 1_718_474_696],
    ['2024-01-01', NEW_YEAR_2024],
  ])('parses the ISO-8601 string %j', (value, seconds) => {
    expect(parseTime(value)).toBe(seconds);
  });

  it('reads a date-time without a zone as UTC, whatever the local time zone', () => {
    const localZone = process.env['TZ'];
    process.env['TZ'] = 'America/New_York';
    try {
      expect(parseTime('2024-01-01T00:00:00')).toBe(NEW_YEAR_2024);
      expect(parseTime('2024-01-01T00:00')).toBe(NEW_YEAR_2024);
      expect(parseTime('2024-01-01T00:00:00.500')).toBe(NEW_YEAR_2024);
    } finally {
      if (localZone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = localZone;
    }
  });

  it('takes a Date as its epoch seconds, rounded down', () => {
    expect(parseTime(new Date(Date.UTC(2024, 0, 1)))).toBe(NEW_YEAR_2024);
    expect(parseTime(new Date(NEW_YEAR_2024 * 1000 + 999))).toBe(NEW_YEAR_2024);
  });

  it.each([
    ['yesterday', '"yesterday"'],
    ['', '""'],
    ['   ', '"   "'],
    ['2024-13-01T00:00:00Z', '"2024-13-01T00:00:00Z"'],
    ['1.5e9', '"1.5e9"'],
    [{}, '{}'],
    [null, 'null'],
    [undefined, 'undefined'],
    [true, 'true'],
  ])('rejects %j with QMTL_INVALID_TIME and quotes it as %s', (value, quoted) => {
    const error = thrownBy(() => parseTime(value));
    expect(error.code).toBe(ErrorCode.InvalidTime);
    expect(error.code).toBe('QMTL_INVALID_TIME');
    expect(error.message).toContain(`got ${quoted}`);
  });

  it.each([NaN, Infinity, -Infinity])('rejects the number %d with QMTL_INVALID_TIME', (value) => {
    expect(thrownBy(() => parseTime(value)).code).toBe('QMTL_INVALID_TIME');
  });

  it('rejects an invalid Date with QMTL_INVALID_TIME', () => {
    expect(thrownBy(() => parseTime(new Date(NaN))).code).toBe('QMTL_INVALID_TIME');
  });

  it('rejects a calendar date that does not exist', () => {
    expect(thrownBy(() => parseTime('2024-02-30T00:00:00Z')).code).toBe('QMTL_INVALID_TIME');
  });

  it('names the field it was given in the message', () => {
    expect(thrownBy(() => parseTime('soon', 'startTime')).message).toMatch(/^startTime must /);
  });
});

describe('formatTime', () => {
  it('formats epoch seconds as ISO-8601 UTC without milliseconds', () => {
    expect(formatTime(NEW_YEAR_2024)).toBe('2024-01-01T00:00:00Z');
    expect(formatTime(-1)).toBe('1969-12-31T23:59:59Z');
  });

  it.each([0, NEW_YEAR_2024, 1_718_474_696, 4_102_444_799])('round-trips %i through parseTime', (seconds) => {
    expect(parseTime(formatTime(seconds))).toBe(seconds);
  });

  it('round-trips an ISO string through parseTime', () => {
    expect(formatTime(parseTime('2024-06-15T18:04:56Z'))).toBe('2024-06-15T18:04:56Z');
  });

  it('round-trips years before 100, and never returns -0 (found by the fuzz test)', () => {
    expect(parseTime('0099-12-31T23:59:59Z')).toBe(-59_011_459_201);
    expect(() => parseTime('0099-02-30')).toThrow(/must be epoch seconds/);
    expect(Object.is(parseTime(-0), 0)).toBe(true);
  });

  it('accepts years 1 to 9999 and refuses anything outside, naming the field and the value', () => {
    expect(parseTime('9999-12-31T23:59:59Z')).toBe(MAX_TIME);
    expect(parseTime('0001-01-01T00:00:00Z')).toBe(MIN_TIME);
    for (const value of [MAX_TIME + 1, MIN_TIME - 1, '+010000-01-01T00:00:00Z', '99999999999999999999']) {
      const error = thrownBy(() => parseTime(value, 'endTime'));
      expect(error.code).toBe('QMTL_INVALID_TIME');
      expect(error.message).toMatch(/^endTime must be between year 1 and year 9999, got /);
    }
  });

  it('refuses epoch milliseconds (a Date.now() given as seconds) with the hint and the time they mean', () => {
    const error = thrownBy(() => parseTime(1_704_067_800_000, 'endTime'));
    expect(error.message).toBe(
      'endTime must be between year 1 and year 9999, got 1704067800000; it looks like epoch milliseconds (2024-01-01T00:10:00Z): give seconds',
    );
    expect(thrownBy(() => parseTime('1704067800000')).message).toContain('looks like epoch milliseconds');
  });
});

describe('formatTime', () => {
  it('writes six-digit years past 9999 and a plain count of seconds past what a Date holds', () => {
    expect(formatTime(253_402_300_800)).toBe('+010000-01-01T00:00:00Z');
    expect(formatTime(99_999_999_999_999)).toBe('99999999999999 s since epoch');
    expect(formatTime(NaN)).toBe('NaN s since epoch');
  });
});
