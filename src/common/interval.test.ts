import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errors.js';
import { thrownBy } from './errors.test-kit.js';
import { bucketOf, parseInterval, parsePeriod } from './interval.js';

describe('parseInterval', () => {
  it.each([
    [60, 60],
    [1, 1],
    ['45s', 45],
    ['30m', 1800],
    ['1h', 3600],
    ['1d', 86_400],
    [' 5m ', 300],
    ['2H', 7200],
    ['1D', 86_400],
  ])('parses %j as %i seconds', (value, seconds) => {
    expect(parseInterval(value)).toBe(seconds);
  });

  it('refuses an upper-case M, which means months in many exchange APIs, suggesting minutes', () => {
    const error = thrownBy(() => parseInterval(' 5M ', 'candle interval'));
    expect(error.code).toBe(ErrorCode.InvalidInterval);
    expect(error.message).toBe(
      'candle interval " 5M " is ambiguous: "M" means months in many exchange APIs; write "5m" for minutes (months are not an interval here)',
    );
  });

  it.each([
    ['bad', '"bad"'],
    ['0s', '"0s"'],
    ['1.5m', '"1.5m"'],
    ['5 m', '"5 m"'],
    ['-5s', '"-5s"'],
    ['99999999999999999999d', '"99999999999999999999d"'],
    [0, '0'],
    [-5, '-5'],
    [1.5, '1.5'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, '{}'],
    [true, 'true'],
  ])('rejects %j with QMTL_INVALID_INTERVAL and quotes it as %s', (value, quoted) => {
    const error = thrownBy(() => parseInterval(value));
    expect(error.code).toBe(ErrorCode.InvalidInterval);
    expect(error.code).toBe('QMTL_INVALID_INTERVAL');
    expect(error.message).toContain(`got ${quoted}`);
  });

  it('rejects NaN with QMTL_INVALID_INTERVAL', () => {
    expect(thrownBy(() => parseInterval(NaN)).code).toBe(ErrorCode.InvalidInterval);
  });

  it('quotes NaN as NaN in the message', () => {
    expect(thrownBy(() => parseInterval(NaN)).message).toContain('got NaN');
  });

  it('names the field it was given in the message', () => {
    expect(thrownBy(() => parseInterval('bad', 'bar interval')).message).toMatch(/^bar interval must /);
  });
});

describe('parsePeriod', () => {
  it.each([1, 20, 10_000])('accepts %i', (value) => {
    expect(parsePeriod(value)).toBe(value);
  });

  it.each([
    [0, '0'],
    [-1, '-1'],
    [2.5, '2.5'],
    ['30m', '"30m"'],
    ['20', '"20"'],
    [null, 'null'],
    [undefined, 'undefined'],
  ])('rejects %j with QMTL_INVALID_PERIOD and quotes it as %s', (value, quoted) => {
    const error = thrownBy(() => parsePeriod(value));
    expect(error.code).toBe('QMTL_INVALID_PERIOD');
    expect(error.message).toContain(`got ${quoted}`);
  });

  it('names the field it was given in the message', () => {
    expect(thrownBy(() => parsePeriod(0, 'warmup')).message).toMatch(/^warmup must /);
  });
});

describe('bucketOf', () => {
  it.each([
    [102, 60, 60],
    [170, 60, 120],
    [120, 60, 120],
    [0, 60, 0],
    [59, 60, 0],
    [1_704_067_259, 3600, 1_704_067_200],
  ])('puts %i with interval %i in the bucket starting at %i', (timestamp, interval, start) => {
    expect(bucketOf(timestamp, interval)).toBe(start);
  });

  it('floors negative timestamps to the bucket below', () => {
    expect(bucketOf(-1, 60)).toBe(-60);
    expect(bucketOf(-60, 60)).toBe(-60);
  });
});
