/**
 * The input parsers every command line, config and DAG goes through, over generated values of any
 * type: each returns a value of its contract or throws one QmtlError naming what it parsed,
 * never another exception; and what it returns round-trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QmtlError } from './errors.js';
import { bucketOf, parseInterval, parsePeriod } from './interval.js';
import { kafkaBrokers } from './kafka-dsn.js';
import { tagListOf } from './tag-list.js';
import { formatTime, parseTime } from './time.js';

const anything = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.double(),
  fc.constantFrom(
    '5m',
    '1h',
    '0s',
    '-1m',
    '1.5h',
    '2024-01-01T00:00:00Z',
    '2024-13-40',
    '1e3',
    ' 60 ',
    'NaN',
  ),
);

/** Calls `parse`; a throw must be a QmtlError whose message names `what`. */
function parsedOrRefused<T>(parse: () => T, what: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).message).toContain(what);
    return undefined;
  }
}

describe('input parsers over generated values', () => {
  it('parseInterval gives positive integer seconds or an error naming the field', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const seconds = parsedOrRefused(() => parseInterval(value, 'bar interval'), 'bar interval');
        if (seconds !== undefined) expect(Number.isSafeInteger(seconds) && seconds > 0).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('parsePeriod gives a positive integer or an error naming the field', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const bars = parsedOrRefused(() => parsePeriod(value, 'window'), 'window');
        if (bars !== undefined) expect(Number.isInteger(bars) && bars > 0).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('parseTime gives finite epoch seconds that format and parse back, or an error naming the field', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        (value) => {
          const seconds = parsedOrRefused(() => parseTime(value, 'start time'), 'start time');
          if (seconds === undefined) return;
          expect(Number.isFinite(seconds)).toBe(true);
          expect(Number.isInteger(seconds) && !Object.is(seconds, -0)).toBe(true);
          // Within the dates a Date can hold, what formatTime writes reads back.
          if (Math.abs(seconds) <= 8.64e12) expect(parseTime(formatTime(seconds))).toBe(seconds);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('bucketOf puts every finite timestamp in the bucket that holds it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.constantFrom(1, 60, 300, 3600, 86_400),
        (t, interval) => {
          const bucket = bucketOf(t, interval);
          expect(bucket % interval === 0 || Object.is(bucket % interval, -0)).toBe(true);
          expect(bucket <= t && t < bucket + interval).toBe(true);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('tagListOf gives a list of non-empty strings or null', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const tags = tagListOf(value);
        if (tags !== null) expect(tags.every((t) => typeof t === 'string' && t !== '')).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('kafkaBrokers gives host:port pairs or an error naming the key', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.webUrl(),
          fc.constantFrom('kafka://a:1,b:2', 'kafka://', 'a:0', 'h:65536', ':9092'),
        ),
        (dsn) => {
          const brokers = parsedOrRefused(() => kafkaBrokers(dsn, 'queue.kafka_dsn'), 'queue.kafka_dsn');
          if (brokers === undefined) return;
          expect(brokers.length).toBeGreaterThan(0);
          for (const broker of brokers) expect(broker).toMatch(/^[^\s,]+:\d+$/);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
