import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { formatTime } from '../common/time.js';
import { MemoryHistoryProvider } from '../sdk/history/memory-history-provider.js';
import { OutsideRangeFilter } from '../sdk/history/range-filter.js';
import type {
  CoverageRange,
  DataFetcher,
  HistoryProvider,
  HistoryRow,
  StreamKey,
} from '../sdk/history/protocols.js';
import { rejectUnknownKeys } from '../sdk/node-options.js';
import { formatCsvLine, parseCsv, parseCsvTimestamp, parseCsvValue, type CsvRecord } from './csv-format.js';
import { resolveTimeColumn, warnOfCompactDates } from './time-column.js';

/** Options of {@link CsvHistoryProvider}. */
export interface CsvHistoryProviderOptions {
  /** Column holding the timestamps. Default `ts`, or `timestamp` when the file has no `ts`. */
  readonly timeColumn?: string;
  /** Stable id of the data, part of the owning StreamInput's NodeID. Default `csv:` + the path. */
  readonly sourceId?: string;
  /** Where `fillMissing` gets rows the file lacks; they are appended to the file. */
  readonly fetcher?: DataFetcher;
  /** Field separator. Default `,`. */
  readonly delimiter?: string;
}

const CSV_OPTION_KEYS = [
  'timeColumn',
  'sourceId',
  'fetcher',
  'delimiter',
] as const satisfies readonly (keyof CsvHistoryProviderOptions)[];

/** What the provider learnt from the file on its first use. */
interface LoadedCsv {
  readonly memory: MemoryHistoryProvider;
  /** The file's columns, the time column under its own name; empty when there is no file yet. */
  columns: string[];
  timeColumn: string;
  endsWithNewline: boolean;
  /** The file writes its times as ISO-8601 (its first row did): rows a fill adds do too. */
  isoTimes: boolean;
}

/**
 * A {@link HistoryProvider} backed by a CSV file with a header row. The file is read on first
 * use; rows become `{ ts, ...other columns }` with numbers parsed and empty cells `null`, and
 * timestamps may be epoch numbers (seconds, ms, µs or ns, told by magnitude) or ISO-8601 dates. With a fetcher,
 * `fillMissing` appends what it fetches to the file, so the file grows into a local cache; a
 * missing file then counts as empty and is created. Without one, `fillMissing` does nothing.
 *
 * @example
 * const provider = new CsvHistoryProvider('data/btc-1m.csv');
 * const rows = await provider.fetch(1_704_067_200, 1_704_070_800, { nodeId, interval: 60 });
 */
export class CsvHistoryProvider implements HistoryProvider {
  /** `csv:` + the path unless given: the data's identity in the StreamInput's NodeID. */
  readonly sourceId: string;
  private readonly fetcher: DataFetcher | undefined;
  private readonly delimiter: string;
  private readonly timeColumnOption: string | undefined;
  private loading: Promise<LoadedCsv> | undefined;
  private writes: Promise<void> = Promise.resolve();
  private readonly outsideRange = OutsideRangeFilter.forFills();

  constructor(
    readonly path: string,
    options: CsvHistoryProviderOptions = {},
  ) {
    rejectUnknownKeys(options, CSV_OPTION_KEYS, 'CsvHistoryProvider', { code: ErrorCode.InvalidArgument });
    this.sourceId = options.sourceId ?? `csv:${path}`;
    this.fetcher = options.fetcher;
    this.delimiter = options.delimiter ?? ',';
    this.timeColumnOption = options.timeColumn;
  }

  /** Rows with `start <= ts < end`, ascending. */
  async fetch(start: number, end: number, key: StreamKey): Promise<readonly HistoryRow[]> {
    return (await this.load()).memory.fetch(start, end, key);
  }

  /** Runs of consecutive buckets in the file as inclusive ranges. */
  async coverage(key: StreamKey): Promise<readonly CoverageRange[]> {
    return (await this.load()).memory.coverage(key);
  }

  /**
   * Fetches `[start, end + 1)` and appends the rows of that range the file lacks; rows the fetcher
   * returns outside it are dropped (`history.fill_outside_range`, warned once per stream). Without
   * a fetcher, nothing.
   */
  async fillMissing(start: number, end: number, key: StreamKey): Promise<void> {
    if (this.fetcher === undefined || !(start <= end)) return;
    const loaded = await this.load();
    const fetched = await this.fetcher.fetch(start, end + 1, key);
    const inRange = this.outsideRange.keep(key, start, end + 1, fetched, { file: this.path });
    const added = loaded.memory.insertMissing(inRange, key);
    if (added.length === 0) return;
    const write = this.writes.then(() => this.persist(loaded, added, key));
    this.writes = write.catch(() => undefined);
    await write;
  }

  private load(): Promise<LoadedCsv> {
    this.loading ??= this.read().catch((error: unknown) => {
      // Forget the failure so a later call can succeed once the file is fixed.
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async read(): Promise<LoadedCsv> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.fetcher !== undefined) return this.loaded([], [], this.timeColumnOption ?? 'ts', true);
        throw new QmtlError(
          ErrorCode.HistoryUnavailable,
          `CSV history file ${quote(this.path)} does not exist`,
          { cause: error },
        );
      }
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `Cannot read CSV history file ${quote(this.path)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let records: CsvRecord[];
    try {
      records = parseCsv(text, this.delimiter);
    } catch (error) {
      throw this.fileError((error as Error).message, error);
    }
    const [header, ...body] = records;
    if (header === undefined) return this.loaded([], [], this.timeColumnOption ?? 'ts', true);
    const columns = header.cells.map((cell) => cell.trim());
    const timeColumn = resolveTimeColumn(columns, this.timeColumnOption, (problem) => {
      throw this.fileError(`line 1: the header ${problem}`);
    });
    const rows = body.map((record) => this.toRow(record, columns, timeColumn));
    warnOfDuplicates(this.path, rows);
    const firstTime = body[0]?.cells[columns.indexOf(timeColumn)]?.trim() ?? '';
    warnOfCompactDates(this.path, timeColumn, firstTime);
    const isoTimes = firstTime !== '' && typeof parseCsvValue(firstTime) !== 'number';
    return this.loaded(rows, columns, timeColumn, /[\r\n]$/.test(text), isoTimes);
  }

  private loaded(
    rows: HistoryRow[],
    columns: string[],
    timeColumn: string,
    endsWithNewline: boolean,
    isoTimes = false,
  ): LoadedCsv {
    return { memory: new MemoryHistoryProvider(rows), columns, timeColumn, endsWithNewline, isoTimes };
  }

  private toRow(record: CsvRecord, columns: readonly string[], timeColumn: string): HistoryRow {
    if (record.cells.length > columns.length) {
      throw this.fileError(
        `line ${record.line}: ${record.cells.length} values but the header has ${columns.length} columns`,
      );
    }
    const entries: [string, unknown][] = [];
    let ts: number | null = null;
    for (const [index, column] of columns.entries()) {
      const cell = record.cells[index] ?? '';
      if (column !== timeColumn) {
        entries.push([column, parseCsvValue(cell)]);
        continue;
      }
      ts = parseCsvTimestamp(cell);
      if (ts === null) {
        throw this.fileError(
          `line ${record.line}: ${quote(cell)} in column ${quote(column)} is not an epoch number (seconds, ms, µs or ns) or an ISO-8601 date`,
        );
      }
    }
    // fromEntries (not assignment) so a column named __proto__ stays a plain field.
    return Object.fromEntries([['ts', ts], ...entries]) as HistoryRow;
  }

  /**
   * Appends `added` to the file (times in the file's own format: epoch seconds, or ISO-8601 when
   * its first row had an ISO time), or rewrites it when there is no header yet or new columns
   * appear (then every row is written as parsed: numbers in their shortest form).
   */
  private async persist(loaded: LoadedCsv, added: readonly HistoryRow[], key: StreamKey): Promise<void> {
    const fieldsOf = (row: HistoryRow): string[] => Object.keys(row).filter((field) => field !== 'ts');
    const known = new Set(loaded.columns);
    const extra = [...new Set(added.flatMap(fieldsOf))].filter((field) => !known.has(field));
    if (loaded.columns.length > 0 && extra.length === 0) {
      const lines = added.map((row) => this.line(row, loaded)).join('\n');
      await appendFile(this.path, `${loaded.endsWithNewline ? '' : '\n'}${lines}\n`, 'utf8');
    } else {
      const all = await loaded.memory.fetch(-Infinity, Infinity, key);
      const others = [...new Set(all.flatMap(fieldsOf))].filter(
        (field) => !known.has(field) && field !== loaded.timeColumn,
      );
      loaded.columns =
        loaded.columns.length > 0 ? [...loaded.columns, ...others] : [loaded.timeColumn, ...others];
      const body = all.map((row) => `${this.line(row, loaded)}\n`).join('');
      await writeFile(this.path, `${formatCsvLine(loaded.columns, this.delimiter)}\n${body}`, 'utf8');
    }
    loaded.endsWithNewline = true;
  }

  private line(row: HistoryRow, loaded: LoadedCsv): string {
    return formatCsvLine(
      loaded.columns.map((column) =>
        column !== loaded.timeColumn ? row[column] : loaded.isoTimes ? formatTime(row.ts) : row.ts,
      ),
      this.delimiter,
    );
  }

  private fileError(detail: string, cause?: unknown): QmtlError {
    return new QmtlError(
      ErrorCode.HistoryUnavailable,
      `CSV history file ${quote(this.path)} ${detail}`,
      cause === undefined ? {} : { cause },
    );
  }
}

/** Options of {@link writeCsv}. */
export interface WriteCsvOptions {
  /** Field separator. Default `,`. */
  readonly delimiter?: string;
}

/**
 * Writes rows as a CSV file with a header: `ts` first, then every other field in order of first
 * appearance. Used to create sample data for {@link CsvHistoryProvider}.
 * @example await writeCsv('btc.csv', [{ ts: 60, close: 101.5 }, { ts: 120, close: 102 }]);
 */
export async function writeCsv(
  path: string,
  rows: Iterable<HistoryRow>,
  options: WriteCsvOptions = {},
): Promise<void> {
  const delimiter = options.delimiter ?? ',';
  const list = [...rows];
  const columns = [
    'ts',
    ...new Set(list.flatMap((row) => Object.keys(row).filter((field) => field !== 'ts'))),
  ];
  const lines = [
    formatCsvLine(columns, delimiter),
    ...list.map((row) =>
      formatCsvLine(
        columns.map((column) => row[column]),
        delimiter,
      ),
    ),
  ];
  await writeFile(path, `${lines.join('\n')}\n`, 'utf8');
}

/** Rows sharing a timestamp are legal (the later one wins), but usually a mistake: say how many. */
function warnOfDuplicates(path: string, rows: readonly HistoryRow[]): void {
  const seen = new Set<number>();
  let duplicates = 0;
  for (const row of rows) {
    if (seen.has(row.ts)) duplicates += 1;
    else seen.add(row.ts);
  }
  if (duplicates > 0)
    logger.warn({ file: path, duplicates }, 'CSV history rows share a timestamp; the later row of each wins');
}
