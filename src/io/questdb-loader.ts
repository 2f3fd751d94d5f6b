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
import { DEFAULT_QUESTDB_DSN, QuestDBClient, isMissingTable } from './questdb-client.js';
import { runsFromBoundaries } from './timestamp-runs.js';
import {
  QUESTDB_KEY_COLUMNS,
  columnTypeOf,
  insertSql,
  quoteIdentifier,
  runBoundariesSql,
  selectRangeSql,
  toMicros,
  type QuestDBColumnType,
} from './questdb-sql.js';

/** Options of {@link QuestDBLoader}. */
export interface QuestDBLoaderOptions {
  /** PostgreSQL-wire DSN of QuestDB. Default `postgresql://admin:quest@127.0.0.1:8812/qdb`. */
  readonly dsn?: string;
  /** Table to read and fill. Default: the node id of the StreamInput the loader is attached to. */
  readonly table?: string;
  /** Where `fillMissing` gets the rows the table lacks. */
  readonly fetcher?: DataFetcher;
  /** Connections in the pool. Default 4. */
  readonly poolSize?: number;
  /** Stable id of the data, part of the owning StreamInput's NodeID. Default `questdb:` + the explicit table, else none. */
  readonly sourceId?: string;
  /** How long `fillMissing` waits for inserted rows to become visible. Default 30 000 ms. */
  readonly visibilityTimeoutMs?: number;
  /** How long opening a connection may take before it fails (`QMTL_TIMEOUT`). Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** How long one query may take before it fails (`QMTL_TIMEOUT`). Default 300 000 ms. */
  readonly queryTimeoutMs?: number;
}

const LOADER_OPTION_KEYS = [
  'dsn',
  'table',
  'fetcher',
  'poolSize',
  'sourceId',
  'visibilityTimeoutMs',
  'connectTimeoutMs',
  'queryTimeoutMs',
] as const satisfies readonly (keyof QuestDBLoaderOptions)[];

/** Rows per INSERT statement in `fillMissing`; bounds the statement's parameter count. */
const INSERT_CHUNK = 500;

/**
 * A {@link HistoryProvider} reading history from QuestDB over its PostgreSQL wire, through a pool
 * of connections. The table (default: the node id of the stream it is attached to) holds one row
 * per bar — `node_id`, `interval`, `ts` (the designated timestamp) and the bar's fields — the
 * layout {@link QuestDBRecorder} writes. A table that does not exist yet reads as empty.
 * `fillMissing` asks the fetcher for a range and inserts only the bars the table lacks.
 * Call {@link close} when done.
 *
 * @example
 * const loader = new QuestDBLoader({ fetcher: new ExchangeCandlesFetcher({ baseUrl }) });
 * const price = new StreamInput({ tags: ['BTC'], interval: 60, period: 30, historyProvider: loader });
 * await Runner.backtest(strategy, { startTime, endTime });
 * await loader.close();
 */
export class QuestDBLoader implements HistoryProvider {
  /** Stable id of the data source, when one was given or the table is explicit. */
  readonly sourceId?: string;
  private readonly client: QuestDBClient;
  private readonly fetcher: DataFetcher | undefined;
  private readonly explicitTable: string | undefined;
  private readonly visibilityTimeoutMs: number;
  private readonly outsideRange = OutsideRangeFilter.forFills();
  private boundTable: string | undefined;

  constructor(options: QuestDBLoaderOptions = {}) {
    rejectUnknownKeys(options, LOADER_OPTION_KEYS, 'QuestDBLoader', { code: ErrorCode.InvalidArgument });
    this.client = new QuestDBClient(options.dsn ?? DEFAULT_QUESTDB_DSN, options.poolSize ?? 4, {
      connectTimeoutMs: options.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
    });
    this.fetcher = options.fetcher;
    if (options.table !== undefined) quoteIdentifier(options.table, 'table');
    this.explicitTable = options.table;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    const sourceId =
      options.sourceId ?? (options.table === undefined ? undefined : `questdb:${options.table}`);
    if (sourceId !== undefined) this.sourceId = sourceId;
  }

  /** The table read and written: the explicit one, else the bound stream's node id. */
  get table(): string {
    const table = this.explicitTable ?? this.boundTable;
    if (table === undefined) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        'QuestDBLoader has no table: pass options.table or give the loader to a StreamInput as its historyProvider',
      );
    }
    return table;
  }

  /** Called by the owning StreamInput: its node id becomes the default table. */
  bindStream(stream: { readonly nodeId: string }): void {
    this.boundTable = stream.nodeId;
  }

  /** The stream's rows with `start <= ts < end`, ascending: `{ ts, ...fields }`, without the key columns. */
  async fetch(start: number, end: number, key: StreamKey): Promise<readonly HistoryRow[]> {
    if (!(start < end)) return [];
    const { text, values } = selectRangeSql(this.table, key, { start, end });
    return (await this.readOrEmpty(() => this.client.query(text, values))).map(toHistoryRow);
  }

  /**
   * Runs of consecutive buckets (`ts == previous + interval`) as inclusive ranges, ascending.
   * QuestDB finds the runs' ends, so this reads two rows per run, not the stream's every row.
   */
  async coverage(key: StreamKey): Promise<readonly CoverageRange[]> {
    const { text, values } = runBoundariesSql(this.table, key);
    return runsFromBoundaries(
      await this.readOrEmpty(() => this.client.queryArrays(text, values)),
      key.interval,
    );
  }

  /**
   * Reads the buckets held in `[start, end + 1)`, asks the fetcher for that range, inserts the
   * rows of that range whose `ts` is not held (creating the table and any new field columns) and
   * waits until they are visible. Rows the fetcher returns outside it are dropped, like the other
   * providers' (warning `history.fill_outside_range` once per stream, with the count): a fill
   * stores only the gap it was asked for. Without a fetcher there is nothing to fill from: it does
   * nothing, so a backtest reports what the table lacks as history gaps (like the file providers).
   */
  async fillMissing(start: number, end: number, key: StreamKey): Promise<void> {
    if (this.fetcher === undefined) return;
    const table = this.table;
    if (!(start <= end)) return;
    const held = new Set(await this.timestamps(key, start, end + 1));
    const fetched = await this.fetcher.fetch(start, end + 1, key);
    const missing = missingRows(this.outsideRange.keep(key, start, end + 1, fetched, { table }), held);
    if (missing.length === 0) return;
    await this.insert(table, key, missing);
  }

  /** Ends the connection pool. */
  close(): Promise<void> {
    return this.client.close();
  }

  /** The `ts` of the stream's rows with `start <= ts < end`, ascending. */
  private async timestamps(key: StreamKey, start: number, end: number): Promise<number[]> {
    const { text, values } = selectRangeSql(
      this.table,
      key,
      { start, end },
      { columns: 'cast("ts" AS LONG)' },
    );
    const rows = await this.readOrEmpty(() => this.client.queryArrays(text, values));
    return rows.map((row) => Number(row[0]) / 1_000_000);
  }

  private async readOrEmpty<T>(read: () => Promise<T[]>): Promise<T[]> {
    try {
      return await read();
    } catch (error) {
      if (isMissingTable(error)) return [];
      throw error;
    }
  }

  private async insert(table: string, key: StreamKey, rows: readonly HistoryRow[]): Promise<void> {
    const types = fieldTypes(rows);
    await this.client.ensureTable(table);
    await this.client.addColumns(table, types);
    const columns = [...QUESTDB_KEY_COLUMNS, ...types.keys()];
    const allTypes = new Map<string, QuestDBColumnType>([['ts', 'TIMESTAMP'], ...types]);
    for (let offset = 0; offset < rows.length; offset += INSERT_CHUNK) {
      const chunk = rows.slice(offset, offset + INSERT_CHUNK);
      const values = chunk.flatMap((row) => [
        key.nodeId,
        key.interval,
        toMicros(row.ts),
        ...[...types.keys()].map((field) => sqlValue(row[field], types.get(field))),
      ]);
      await this.client.query(insertSql(table, columns, allTypes, chunk.length), values);
    }
    await this.client.waitForWal(table, this.visibilityTimeoutMs);
  }
}

/** Fetched rows (already inside the asked range) whose `ts` is not held, first one per `ts`, ascending. */
function missingRows(rows: readonly HistoryRow[], held: Set<number>): HistoryRow[] {
  const seen = new Set(held);
  const missing: HistoryRow[] = [];
  for (const [index, row] of rows.entries()) {
    const ts: unknown = row?.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `fetcher row ${index} has ts ${quote(ts)}; ts must be finite epoch seconds`,
      );
    }
    if (seen.has(ts)) continue;
    seen.add(ts);
    missing.push(row);
  }
  return missing.sort((a, b) => a.ts - b.ts);
}

/** The column type of every field of the rows (key columns excluded), from its first non-null value. */
function fieldTypes(rows: readonly HistoryRow[]): Map<string, QuestDBColumnType> {
  const types = new Map<string, QuestDBColumnType>();
  const untyped = new Set<string>();
  for (const row of rows) {
    for (const [field, value] of Object.entries(row)) {
      if ((QUESTDB_KEY_COLUMNS as readonly string[]).includes(field) || types.has(field)) continue;
      quoteIdentifier(field, 'column');
      const type = columnTypeOf(value, field);
      if (type === null) untyped.add(field);
      else types.set(field, type);
    }
  }
  // A field that is null in every row still gets a column, so the row keeps its shape.
  for (const field of untyped) if (!types.has(field)) types.set(field, 'DOUBLE');
  return types;
}

function sqlValue(value: unknown, type: QuestDBColumnType | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'TIMESTAMP' && value instanceof Date) return value.getTime() * 1000;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A QuestDB row → `{ ts, ...fields }`: `ts` back to epoch seconds, the key columns dropped. */
function toHistoryRow(row: Record<string, unknown>): HistoryRow {
  const entries: [string, unknown][] = [['ts', (row['ts'] as Date).getTime() / 1000]];
  for (const [column, value] of Object.entries(row)) {
    if (!(QUESTDB_KEY_COLUMNS as readonly string[]).includes(column)) entries.push([column, value]);
  }
  // fromEntries (not assignment) so a column named __proto__ stays a plain field.
  return Object.fromEntries(entries) as HistoryRow;
}
