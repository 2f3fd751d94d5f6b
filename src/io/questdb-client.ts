import type { Pool, QueryResultRow } from 'pg';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { addColumnSql, createTableSql, quoteIdentifier, type QuestDBColumnType } from './questdb-sql.js';
import { redactDsn } from '../common/dsn.js';

/** Where QuestDB's PostgreSQL wire listens by default, with its default credentials. */
export const DEFAULT_QUESTDB_DSN = 'postgresql://admin:quest@127.0.0.1:8812/qdb';

// PostgreSQL type OIDs QuestDB sends that node-postgres would otherwise return as strings or
// as dates in the machine's local time zone.
const INT8 = 20;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/** int8 → number when exact, else bigint. */
function parseInt8(text: string): number | bigint {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

/** QuestDB sends `2024-01-01 00:00:00.000000` in UTC. */
function parseUtcTimestamp(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}${/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? '' : 'Z'}`);
}

/** True when QuestDB answered that the table does not exist. */
/** Defaults of {@link QuestDBTimeouts}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 300_000;

/** How long a QuestDB connection attempt and a query may take before they fail with an error. */
export interface QuestDBTimeouts {
  /** Opening a connection. Default 10 000 ms. */
  readonly connectTimeoutMs?: number | undefined;
  /** One query, measured by the client. Default 300 000 ms. */
  readonly queryTimeoutMs?: number | undefined;
}

/** node-postgres errors (no errno code) that mean the connection is gone. */
const LOST_CONNECTION = /Connection terminated|connection error|Client has encountered a connection error/i;
/** node-postgres errors of a connect or query timeout. */
const TIMED_OUT =
  /timeout exceeded when trying to connect|Query read timeout|Connection terminated due to connection timeout/i;
/** SQLSTATE invalid_password. */
const INVALID_PASSWORD = '28P01';

export function isMissingTable(error: unknown): boolean {
  return error instanceof Error && /table does not exist/i.test(error.message);
}

/**
 * A pooled PostgreSQL-wire connection to QuestDB with the few catalogue operations the loader and
 * recorder share. The `pg` driver is imported on first use, so importing `qmtl/io` never loads it.
 */
export class QuestDBClient {
  private pool: Promise<Pool> | undefined;
  private closed = false;
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    readonly dsn: string,
    private readonly poolSize: number,
    private readonly timeouts: QuestDBTimeouts = {},
  ) {
    if (typeof dsn !== 'string' || !/^postgres(ql)?:\/\/[^/]/.test(dsn)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `dsn must be a PostgreSQL-wire URL such as ${quote(DEFAULT_QUESTDB_DSN)}, got ${quote(typeof dsn === 'string' ? redactDsn(dsn) : dsn)}`,
      );
    }
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `poolSize must be a positive integer, got ${quote(poolSize)}`,
      );
    }
    for (const [name, value] of Object.entries(timeouts)) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
        throw new QmtlError(
          ErrorCode.InvalidArgument,
          `${name} must be a positive integer of ms, got ${quote(value)}`,
        );
    }
  }

  /** Runs one statement on a pooled connection; connection failures name the DSN (password hidden). */
  async query<Row extends QueryResultRow = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] = [],
  ): Promise<Row[]> {
    const pool = await this.connect();
    return this.retryReplanned(text, async () => (await pool.query<Row>(text, values as unknown[])).rows);
  }

  /** Like {@link query} with rows as arrays: no per-row object for long single-column reads. */
  async queryArrays(text: string, values: readonly unknown[] = []): Promise<unknown[][]> {
    const pool = await this.connect();
    return this.retryReplanned(
      text,
      async () => (await pool.query<unknown[]>({ text, values: values as unknown[], rowMode: 'array' })).rows,
    );
  }

  /** Creates the history table once per client (idempotent on the server too). */
  ensureTable(table: string): Promise<void> {
    let pending = this.ensured.get(table);
    if (pending === undefined) {
      pending = this.query(createTableSql(table)).then(() => undefined);
      // Forget a failure so the next call tries again.
      pending.catch(() => this.ensured.delete(table));
      this.ensured.set(table, pending);
    }
    return pending;
  }

  /** The table's columns and their QuestDB types; empty when the table does not exist. */
  async columns(table: string): Promise<Map<string, string>> {
    try {
      const rows = await this.query<{ column: string; type: string }>(
        `SHOW COLUMNS FROM ${quoteIdentifier(table, 'table')}`,
      );
      return new Map(rows.map((row) => [row.column, row.type]));
    } catch (error) {
      if (isMissingTable(error)) return new Map();
      throw error;
    }
  }

  /** Adds the columns the table lacks; a column added meanwhile by another writer is fine. */
  async addColumns(table: string, wanted: ReadonlyMap<string, QuestDBColumnType>): Promise<void> {
    const existing = await this.columns(table);
    for (const [column, type] of wanted) {
      if (existing.has(column)) continue;
      try {
        await this.query(addColumnSql(table, column, type));
      } catch (error) {
        if (!/duplicate column/i.test((error as Error).message)) throw error;
      }
    }
  }

  /**
   * Waits until every transaction committed to the table's write-ahead log is applied, so rows
   * just inserted are visible to queries. Polls `wal_tables()` until `timeoutMs` passes.
   */
  async waitForWal(table: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [status] = await this.query<{ writerTxn: number; sequencerTxn: number; suspended: boolean }>(
        'SELECT "writerTxn", "sequencerTxn", "suspended" FROM wal_tables() WHERE "name" = $1',
        [table],
      );
      if (status === undefined || status.writerTxn >= status.sequencerTxn) return;
      if (status.suspended) {
        throw new QmtlError(
          ErrorCode.HistoryUnavailable,
          `QuestDB suspended the write-ahead log of table ${quote(table)}; see the server log`,
        );
      }
      if (Date.now() >= deadline) {
        throw new QmtlError(
          ErrorCode.Timeout,
          `QuestDB table ${quote(table)}: rows not visible within ${timeoutMs} ms (WAL txn ${status.writerTxn} of ${status.sequencerTxn})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Ends the pool; later calls fail. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await (await pool).end();
  }

  private connect(): Promise<Pool> {
    if (this.closed) {
      return Promise.reject(
        new QmtlError(ErrorCode.InvalidArgument, `QuestDB client for ${redactDsn(this.dsn)} is closed`),
      );
    }
    this.pool ??= import('pg')
      .then(
        ({ default: pg }) =>
          new pg.Pool({
            connectionString: this.dsn,
            max: this.poolSize,
            // Idle connections do not keep the process alive, so a forgotten close() cannot hang it.
            allowExitOnIdle: true,
            // A server that accepts the connection but never answers (a wrong port, a dropped
            // packet) fails the call instead of hanging it.
            connectionTimeoutMillis: this.timeouts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
            query_timeout: this.timeouts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
            types: {
              getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((text: string) => unknown) => {
                if (oid === INT8) return parseInt8;
                if (oid === TIMESTAMP || oid === TIMESTAMPTZ) return parseUtcTimestamp;
                return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
              }) as typeof pg.types.getTypeParser,
            },
          }),
      )
      .then((pool) => {
        // An idle pooled connection that drops (QuestDB restarts, the network fails) is an 'error'
        // event on the pool; without a listener it would end the process. The pool discards the
        // connection and the next call opens a new one.
        pool.on('error', (error) =>
          logger.warn(
            { error: error.message, dsn: redactDsn(this.dsn) },
            'idle QuestDB connection lost; it will be reopened',
          ),
        );
        return pool;
      });
    return this.pool;
  }

  /**
   * Runs a statement, again when QuestDB reports that a cached plan changed its result type: it
   * does so once when columns were added (e.g. by ILP) between planning and running a `SELECT *`.
   */
  private async retryReplanned<T>(text: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (error) {
        if (
          attempt < 3 &&
          error instanceof Error &&
          /cached plan must not change result type/i.test(error.message)
        )
          continue;
        throw this.wrap(error, text);
      }
    }
  }

  private wrap(error: unknown, sql: string): QmtlError {
    if (error instanceof QmtlError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const at = redactDsn(this.dsn);
    if (TIMED_OUT.test(message)) {
      return new QmtlError(ErrorCode.Timeout, `QuestDB at ${at} did not answer in time: ${message}`, {
        cause: error,
      });
    }
    if ((code !== undefined && /^E[A-Z]+$/.test(code)) || LOST_CONNECTION.test(message)) {
      return new QmtlError(ErrorCode.Unavailable, `QuestDB is unreachable at ${at}: ${message || code}`, {
        cause: error,
      });
    }
    if (code === INVALID_PASSWORD || /invalid username\/password|password authentication/i.test(message)) {
      return new QmtlError(ErrorCode.Unavailable, `QuestDB at ${at} refused the login: ${message}`, {
        cause: error,
      });
    }
    return new QmtlError(ErrorCode.HistoryUnavailable, `QuestDB rejected ${quote(sql)}: ${message}`, {
      cause: error,
    });
  }
}
