/**
 * The CSV format over generated records: what formatCsvLine writes, parseCsv reads back cell for
 * cell (quotes, delimiters, line breaks, blanks and non-ASCII text included), with any delimiter
 * and either line ending; and timestamp cells read back the time they were written from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTime } from '../common/time.js';
import { formatCsvLine, parseCsv, parseCsvTimestamp } from './csv-format.js';

const cell = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('', ' ', '"', '""', ',', ';', '\t', '\n', '\r\n', 'a,b', ' lead', 'trail ', '"quoted"'),
);

describe('CSV over generated records', () => {
  it('reads back what it writes, cell for cell', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(',', ';', '\t', '|'),
        fc.constantFrom('\n', '\r\n'),
        (records, delimiter, newline) => {
          const text = records.map((cells) => formatCsvLine(cells, delimiter)).join(newline) + newline;
          expect(parseCsv(text, delimiter).map((record) => record.cells)).toEqual(records);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('reads a written timestamp back as the same epoch seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800, max: 253_402_300_799 }), (seconds) => {
        expect(parseCsvTimestamp(formatTime(seconds))).toBe(seconds);
        // Numbers above 1e11 are epoch milliseconds (year 5138 in seconds).
        if (Math.abs(seconds) <= 1e11) expect(parseCsvTimestamp(String(seconds))).toBe(seconds);
      }),
      { numRuns: 3_000 },
    );
  });

  it('never reads an impossible date as another day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1970, max: 2100 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 29, max: 31 }),
        (year, month, day) => {
          const text = `${year}-${String(month).padStart(2, '0')}-${day}`;
          const parsed = parseCsvTimestamp(text);
          const real = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
          if (real) expect(parsed).toBe(Date.UTC(year, month - 1, day) / 1000);
          else expect(parsed, text).toBeNull();
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
