import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tableFromIPC, tableToIPC, type Table, type Vector } from 'apache-arrow';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type {
  CoverageRange,
  DataFetcher,
  HistoryProvider,
  HistoryRow,
  StreamKey,
} from '../sdk/history/protocols.js';
import { OutsideRangeFilter } from '../sdk/history/range-filter.js';
import { rejectUnknownKeys } from '../sdk/node-options.js';
import { appendRows } from './arrow-append.js';
import { registerArrowCodecs } from './arrow-codecs.js';
import { cellValue, readTimeColumn, tableFromRows } from './arrow-columns.js';
import { contiguousRanges } from './timestamp-runs.js';
import { resolveTimeColumn, warnOfCompactDates } from './time-column.js';

/** Options of {@link ArrowHistoryProvider}. */
export interface ArrowHistoryProviderOptions {
  /** Column holding the timestamps. Default `ts`, or `timestamp` when the file has no `ts`. */
  readonly timeColumn?: string;
  /** Stable id of the data, part of the owning StreamInput's NodeID. Default `arrow:` + the path. */
  readonly sourceId?: string;
  /** Where `fillMissing` gets rows the file lacks; the file is rewritten with them. */
  readonly fetcher?: DataFetcher;
}

const ARROW_OPTION_KEYS = [
  'timeColumn',
  'sourceId',
  'fetcher',
] as const satisfies readonly (keyof ArrowHistoryProviderOptions)[];

/**
 * The file as columns: `ts` sorted ascending with one entry per bucket, and for each sorted
 * position the table row it comes from. Rows are built only for what `fetch` returns.
 */
interface LoadedArrow {
  readonly ts: Float64Array;
  readonly rowOf: Int32Array;
  readonly fields: readonly { readonly name: string; readonly vector: Vector }[];
  readonly timeColumn: string;
  /** The file as read (null when it does not exist yet): a fill appends to it in its schema. */
  readonly table: Table | null;
}

/**
 * A {@link HistoryProvider} backed by an Apache Arrow IPC file (the `.arrow` / Feather v2 file
 * format, or an IPC stream), with the semantics of {@link CsvHistoryProvider}: the file is read on
 * first use; rows become `{ ts, ...other columns }`; the time column may hold Arrow timestamps or
 * dates, epoch seconds or milliseconds, or ISO-8601 strings; a later row with the same `ts` wins.
 * The file stays columnar in memory: `fetch` builds row objects only for the range asked for.
 * With a fetcher, `fillMissing` rewrites the file with the fetched rows it lacked appended in the
 * file's own schema, every column keeping its type (a missing file then counts as empty and is
 * created as `writeArrow` writes); without one it does nothing.
 *
 * @example
 * await writeArrow('btc-1m.arrow', rows);
 * const provider = new ArrowHistoryProvider('btc-1m.arrow');
 * const bars = await provider.fetch(1_704_067_200, 1_704_070_800, { nodeId, interval: 60 });
 */
export class ArrowHistoryProvider implements HistoryProvider {
  /** `arrow:` + the path unless given: the data's identity in the StreamInput's NodeID. */
  readonly sourceId: string;
  private readonly fetcher: DataFetcher | undefined;
  private readonly timeColumnOption: string | undefined;
  private loading: Promise<LoadedArrow> | undefined;
  private writes: Promise<void> = Promise.resolve();
  private readonly outsideRange = OutsideRangeFilter.forFills();

  constructor(
    readonly path: string,
    options: ArrowHistoryProviderOptions = {},
  ) {
    rejectUnknownKeys(options, ARROW_OPTION_KEYS, 'ArrowHistoryProvider', {
      code: ErrorCode.InvalidArgument,
    });
    this.sourceId = options.sourceId ?? `arrow:${path}`;
    this.fetcher = options.fetcher;
    this.timeColumnOption = options.timeColumn;
  }

  /** Rows with `start <= ts < end`, ascending. */
  async fetch(start: number, end: number, _key: StreamKey): Promise<readonly HistoryRow[]> {
    const loaded = await this.load();
    if (!(start < end)) return [];
    return rowsBetween(loaded, lowerBound(loaded.ts, start), lowerBound(loaded.ts, end));
  }

  /** Runs of consecutive buckets in the file as inclusive ranges. */
  async coverage(key: StreamKey): Promise<readonly CoverageRange[]> {
    return contiguousRanges((await this.load()).ts, key.interval);
  }

  /**
   * Fetches `[start, end + 1)` and rewrites the file with the rows of that range it lacks; rows the
   * fetcher returns outside it are dropped (`history.fill_outside_range`, warned once per
   * stream). Without a fetcher, nothing.
   */
  async fillMissing(start: number, end: number, key: StreamKey): Promise<void> {
    if (this.fetcher === undefined || !(start <= end)) return;
    await this.load();
    const fetched = await this.fetcher.fetch(start, end + 1, key);
    const inRange = this.outsideRange.keep(key, start, end + 1, fetched, { file: this.path });
    const write = this.writes.then(() => this.merge(inRange));
    this.writes = write.catch(() => undefined);
    await write;
  }

  private load(): Promise<LoadedArrow> {
    this.loading ??= this.read().catch((error: unknown) => {
      // Forget the failure so a later call can succeed once the file is fixed.
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async read(): Promise<LoadedArrow> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.fetcher !== undefined) return emptyFile(this.timeColumnOption ?? 'ts');
        throw new QmtlError(
          ErrorCode.HistoryUnavailable,
          `Arrow history file ${quote(this.path)} does not exist`,
          { cause: error },
        );
      }
      throw this.fileError(`cannot be read: ${(error as Error).message}`, error);
    }
    if (bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
      throw this.fileError(
        "is a Parquet file; this provider reads Arrow IPC (Feather v2): convert it once, e.g. in Python pyarrow.feather.write_feather(pyarrow.parquet.read_table(path), 'bars.feather')",
      );
    }
    let table: Table;
    try {
      registerArrowCodecs();
      table = tableFromIPC(bytes);
    } catch (error) {
      throw this.fileError(`is not an Arrow IPC file: ${(error as Error).message}`, error);
    }
    return this.columns(table);
  }

  /** Sorts the file by ts (later rows win on equal ts) without building any row. */
  private columns(table: Table): LoadedArrow {
    const names = table.schema.fields.map((field) => field.name);
    const timeColumn = resolveTimeColumn(names, this.timeColumnOption, (problem) => {
      throw this.fileError(problem);
    });
    const times = table.getChild(timeColumn) as Vector;
    const read = readTimeColumn(times);
    if (times.length > 0) warnOfCompactDates(this.path, timeColumn, cellValue(times, 0));
    if (!('ts' in read)) {
      throw this.fileError(
        `row ${read.badRow}: ${quote(read.value)} in column ${quote(timeColumn)} is not a timestamp, epoch seconds, epoch milliseconds or an ISO-8601 date`,
      );
    }
    const order = Int32Array.from(read.ts.keys()).sort((a, b) => read.ts[a]! - read.ts[b]! || a - b);
    // Keep the last row of each run of equal ts.
    let kept = 0;
    for (let i = 0; i < order.length; i += 1) {
      if (i + 1 < order.length && read.ts[order[i + 1]!] === read.ts[order[i]!]) continue;
      order[kept++] = order[i]!;
    }
    const rowOf = order.slice(0, kept);
    const ts = Float64Array.from(rowOf, (row) => read.ts[row]!);
    const fields = names
      .filter((name) => name !== timeColumn && name !== 'ts')
      .map((name) => ({ name, vector: table.getChild(name) as Vector }));
    return { ts, rowOf, fields, timeColumn, table };
  }

  /**
   * Writes the file again with the fetched rows whose ts it lacks appended, in the file's schema
   * (see {@link appendRows}), then serves the new columns. A fetched value its column's type
   * cannot hold fails the fill, naming the column and the value, and leaves the file as it was.
   */
  private async merge(fetched: readonly HistoryRow[]): Promise<void> {
    const loaded = await this.load();
    const added = new Map<number, HistoryRow>();
    for (const [index, row] of fetched.entries()) {
      const ts: unknown = row?.ts;
      if (typeof ts !== 'number' || !Number.isFinite(ts)) {
        throw new QmtlError(
          ErrorCode.HistoryUnavailable,
          `fetcher row ${index} has ts ${quote(ts)}; ts must be finite epoch seconds`,
        );
      }
      if (!added.has(ts) && !holds(loaded.ts, ts)) added.set(ts, row);
    }
    if (added.size === 0) return;
    const rows = [...added.values()].sort((a, b) => a.ts - b.ts);
    let table: Table;
    try {
      table =
        loaded.table === null
          ? tableFromRows(rows, loaded.timeColumn)
          : appendRows(loaded.table, rows, loaded.timeColumn);
    } catch (error) {
      throw this.fileError(`cannot store a fetched ${(error as Error).message}`, error);
    }
    await writeAtomically(this.path, tableToIPC(table, 'file'));
    this.loading = Promise.resolve(this.columns(table));
  }

  private fileError(detail: string, cause?: unknown): QmtlError {
    return new QmtlError(
      ErrorCode.HistoryUnavailable,
      `Arrow history file ${quote(this.path)} ${detail}`,
      cause === undefined ? {} : { cause },
    );
  }
}

function emptyFile(timeColumn: string): LoadedArrow {
  return { ts: new Float64Array(0), rowOf: new Int32Array(0), fields: [], timeColumn, table: null };
}

/** Rows for sorted positions `[from, to)`: `{ ts, ...fields }`. */
function rowsBetween(loaded: LoadedArrow, from: number, to: number): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (let i = from; i < to; i += 1) {
    const row = loaded.rowOf[i]!;
    const entries: [string, unknown][] = [['ts', loaded.ts[i]]];
    for (const field of loaded.fields) entries.push([field.name, cellValue(field.vector, row)]);
    // fromEntries (not assignment) so a column named __proto__ stays a plain field.
    rows.push(Object.fromEntries(entries) as HistoryRow);
  }
  return rows;
}

/** Index of the first element `>= value`. */
function lowerBound(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function holds(sorted: Float64Array, value: number): boolean {
  return sorted[lowerBound(sorted, value)] === value;
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes rows as an Arrow IPC file: `ts` first (Float64 epoch seconds), then every other field in
 * order of first appearance, typed by its values (see {@link tableFromRows}). Used to create data
 * for {@link ArrowHistoryProvider}.
 * @example await writeArrow('btc.arrow', [{ ts: 60, close: 101.5 }, { ts: 120, close: 102 }]);
 */
export async function writeArrow(path: string, rows: Iterable<HistoryRow>): Promise<void> {
  await writeAtomically(path, tableToIPC(tableFromRows([...rows]), 'file'));
}
