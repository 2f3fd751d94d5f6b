import { ErrorCode, QmtlError } from '../common/errors.js';
import { epochSecondsOfNumber, isRealDate } from '../common/time.js';

/** One record of a CSV text: its raw cells and the 1-based line it starts on. */
export interface CsvRecord {
  readonly line: number;
  readonly cells: readonly string[];
}

const QUOTE = '"';

/**
 * Splits CSV text into records (RFC 4180): fields may be double-quoted, a quoted field may hold
 * the delimiter, newlines and doubled quotes (`""`). Blank lines are skipped; a leading BOM is
 * ignored. Throws InvalidArgument for a quoted field that never closes.
 */
export function parseCsv(text: string, delimiter = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  const endRecord = (): void => {
    cells.push(field);
    if (cells.length > 1 || cells[0] !== '') records.push({ line: recordLine, cells });
    cells = [];
    field = '';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (inQuotes) {
      if (char === QUOTE && text[i + 1] === QUOTE) {
        field += QUOTE;
        i += 1;
      } else if (char === QUOTE) {
        inQuotes = false;
      } else {
        if (char === '\n') line += 1;
        field += char;
      }
    } else if (char === QUOTE && field === '') {
      inQuotes = true;
      quoteLine = line;
    } else if (char === delimiter) {
      cells.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      endRecord();
      line += 1;
      recordLine = line;
    } else {
      field += char;
    }
  }
  if (inQuotes)
    throw new QmtlError(ErrorCode.InvalidArgument, `line ${quoteLine}: a quoted field never closes`);
  if (field !== '' || cells.length > 0) endRecord();
  return records;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Converts a raw cell: empty → `null`, a decimal number → `number`, anything else the string. */
export function parseCsvValue(cell: string): string | number | null {
  const text = cell.trim();
  if (text === '') return null;
  return NUMBER.test(text) ? Number(text) : cell;
}

/**
 * Parses a timestamp cell into integer epoch seconds: an epoch number in seconds, milliseconds,
 * microseconds or nanoseconds (told by its magnitude, see {@link epochSecondsOfNumber}) or an
 * ISO-8601 date (UTC when it names no zone). `null` when invalid, a day that does not exist
 * (2024-02-30) included.
 */
export function parseCsvTimestamp(cell: string): number | null {
  const text = cell.trim();
  if (NUMBER.test(text)) return epochSecondsOfNumber(Number(text));
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
    text,
  );
  if (iso === null) return null;
  const [, date, time, zone] = iso;
  const [year, month, day] = date!.split('-').map(Number) as [number, number, number];
  if (!isRealDate(year, month, day)) return null;
  const ms = Date.parse(time === undefined ? `${date}T00:00:00Z` : `${date}T${time}${zone ?? 'Z'}`);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

/** Formats one value as a CSV field, quoting it when it holds the delimiter, a quote or a newline. */
export function formatCsvValue(value: unknown, delimiter = ','): string {
  const text = cellText(value);
  const needsQuotes = text.includes(delimiter) || /["\r\n]/.test(text) || text !== text.trim();
  return needsQuotes ? `${QUOTE}${text.replaceAll(QUOTE, QUOTE + QUOTE)}${QUOTE}` : text;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  // Objects and arrays as JSON; functions and symbols have no CSV form.
  return JSON.stringify(value) ?? '';
}

/** Formats one record as a CSV line, without the line break. */
export function formatCsvLine(values: readonly unknown[], delimiter = ','): string {
  return values.map((value) => formatCsvValue(value, delimiter)).join(delimiter);
}
