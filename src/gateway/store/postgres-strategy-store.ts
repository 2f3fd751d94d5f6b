import type { Pool, PoolClient, PoolConfig, QueryResultRow, types } from 'pg';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { StrategyStatus, type RunType } from '../strategy-status.js';
import type {
  InsertOutcome,
  NewStrategy,
  StoredDiff,
  StrategyEventRecord,
  StrategyRecord,
  StrategyStore,
} from './strategy-store.js';
import { redactDsn } from '../../common/dsn.js';

/** Options of {@link PostgresStrategyStore.connect}. */
export interface PostgresStrategyStoreOptions {
  /** Most connections the pool opens. Default 10. */
  readonly poolSize?: number;
  /**
   * How long to wait for a connection (a new one, or a free one from a full pool) before the call
   * rejects with `QMTL_UNAVAILABLE`, in ms. Default 2000.
   */
  readonly connectionTimeoutMs?: number;
  /** Server-side `statement_timeout`, in ms; the client gives up 1 s later. Default 5000. */
  readonly statementTimeoutMs?: number;
}

/**
 * The schema, created idempotently by {@link PostgresStrategyStore.connect} under an advisory lock
 * (concurrent `CREATE … IF NOT EXISTS` from two Gateways can otherwise collide). The partial
 * unique index is the race-free 409 dedupe across Gateways.
 */
const SCHEMA = `
SELECT pg_advisory_xact_lock(hashtext('qmtl:strategy-store:schema'));
CREATE TABLE IF NOT EXISTS strategies (
  id TEXT PRIMARY KEY,
  dag_hash TEXT NOT NULL,
  dag_json TEXT NOT NULL,
  meta JSONB,
  run_type TEXT NOT NULL,
  status TEXT NOT NULL,
  diff JSONB,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS strategies_active_dag_hash ON strategies (dag_hash) WHERE status <> 'stopped';
CREATE INDEX IF NOT EXISTS strategies_status ON strategies (status, created_at, id);
CREATE TABLE IF NOT EXISTS strategy_events (
  id BIGSERIAL PRIMARY KEY,
  strategy_id TEXT NOT NULL REFERENCES strategies (id),
  event TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS strategy_events_strategy_id ON strategy_events (strategy_id, id);
`;

/** Opens every write transaction: a 202 must never rest on an unflushed commit, whatever the server default. */
const BEGIN_DURABLE = `BEGIN; SET LOCAL synchronous_commit = 'on'`;

const SQL = {
  // One statement: the row and its INIT event, or nothing when an active strategy holds the hash.
  insert: `WITH inserted AS (
      INSERT INTO strategies (id, dag_hash, dag_json, meta, run_type, status, diff, created_at)
      VALUES ($1, $2, $3, $4::jsonb, $5, $6, NULL, $7)
      ON CONFLICT (dag_hash) WHERE status <> 'stopped' DO NOTHING
      RETURNING id, status, created_at)
    INSERT INTO strategy_events (strategy_id, event, from_status, to_status, at)
    SELECT id, 'INIT', NULL, status, created_at FROM inserted`,
  holder: `SELECT id, status FROM strategies WHERE dag_hash = $1 AND status <> 'stopped'`,
  transition: `WITH moved AS (
      UPDATE strategies SET status = $3::text, diff = COALESCE($6::jsonb, diff)
      WHERE id = $1 AND status = $2::text RETURNING id)
    INSERT INTO strategy_events (strategy_id, event, from_status, to_status, at)
    SELECT id, $4::text, $2::text, $3::text, $5::bigint FROM moved`,
  saveDiff: `UPDATE strategies SET diff = $2::jsonb WHERE id = $1`,
  get: `SELECT id, dag_hash, dag_json, meta, run_type, status, diff, created_at FROM strategies WHERE id = $1`,
  events: `SELECT event, from_status, to_status, at FROM strategy_events WHERE strategy_id = $1 ORDER BY id`,
  // COLLATE "C": the same tie order as the other adapters, whatever the database's locale.
  listByStatus: `SELECT id FROM strategies WHERE status = ANY($1::text[]) ORDER BY created_at, id COLLATE "C"`,
} as const;

/** How often `insert` re-runs when the holder of the hash was stopped between its two statements. */
const INSERT_ATTEMPTS = 3;

const INT8_OID = 20;

interface StrategyRow {
  id: string;
  dag_hash: string;
  dag_json: string;
  meta: Record<string, unknown> | null;
  run_type: string;
  status: string;
  diff: StoredDiff | null;
  created_at: number;
}

interface EventRow {
  event: string;
  from_status: string | null;
  to_status: string;
  at: number;
}

/**
 * The {@link StrategyStore} on PostgreSQL (`pg`, loaded on first connect) for Gateways that share
 * one database. Every write is one statement on a session with `synchronous_commit = on`, so a
 * resolved write survives a crash of the server. When the database is down, calls reject with
 * `QMTL_UNAVAILABLE` within the connection timeout and the pool reconnects by itself once it is
 * back; {@link health} answers false instead of throwing.
 *
 * @example
 * const store = await PostgresStrategyStore.connect('postgresql://postgres@127.0.0.1:5432/qmtl');
 * const outcome = await store.insert(submission);
 * await store.close();
 */
export class PostgresStrategyStore implements StrategyStore {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: Pool,
    /** The DSN with its password hidden, for messages. */
    readonly target: string,
  ) {}

  /**
   * A store on `dsn` (`postgresql://user:password@host:port/database`; `?options=-c search_path=…`
   * selects a schema) with its schema created.
   * @throws QmtlError `QMTL_UNAVAILABLE` when the database cannot be reached or refuses the schema.
   */
  static async connect(
    dsn: string,
    options: PostgresStrategyStoreOptions = {},
  ): Promise<PostgresStrategyStore> {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool(poolConfig(dsn, options, pg.types));
    const target = redactDsn(dsn);
    reportConnectionErrors(pool, target);
    const store = new PostgresStrategyStore(pool, target);
    try {
      await store.write(async (client) => {
        await client.query(SCHEMA);
      });
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  async insert(strategy: NewStrategy): Promise<InsertOutcome> {
    const values = [
      strategy.id,
      strategy.dagHash,
      strategy.dagJson,
      toJson(strategy.meta),
      strategy.runType,
      StrategyStatus.Queued,
      strategy.createdAt,
    ];
    for (let attempt = 1; attempt <= INSERT_ATTEMPTS; attempt += 1) {
      // One statement inserts the row and its INIT event, or nothing when an active strategy
      // holds the hash; then (READ COMMITTED) the holder whose insert blocked ours is visible.
      const { rowCount } = await this.statement(SQL.insert, values, strategy.id);
      if (rowCount === 1) return { inserted: true };
      const [holder] = await this.read<{ id: string; status: string }>(SQL.holder, [strategy.dagHash]);
      if (holder !== undefined) {
        return { inserted: false, existingId: holder.id, existingStatus: holder.status as StrategyStatus };
      }
    }
    throw new QmtlError(
      ErrorCode.Unavailable,
      `Strategy ${quote(strategy.id)}: the holder of DAG hash ${quote(strategy.dagHash)} kept changing; not inserted`,
    );
  }

  async get(id: string): Promise<StrategyRecord | null> {
    const [row] = await this.read<StrategyRow>(SQL.get, [id]);
    return row === undefined ? null : toRecord(row);
  }

  async transition(
    id: string,
    from: StrategyStatus,
    to: StrategyStatus,
    event: string,
    at: number,
    diff?: StoredDiff,
  ): Promise<boolean> {
    const json = diff === undefined ? null : toJson(diff);
    const { rowCount } = await this.statement(SQL.transition, [id, from, to, event, at, json], id);
    return rowCount === 1;
  }

  async saveDiff(id: string, diff: StoredDiff): Promise<void> {
    const { rowCount } = await this.statement(SQL.saveDiff, [id, toJson(diff)], id);
    if (rowCount === 0) throw new QmtlError(ErrorCode.NotFound, `Unknown strategy ${quote(id)}`);
  }

  async events(id: string): Promise<StrategyEventRecord[]> {
    const rows = await this.read<EventRow>(SQL.events, [id]);
    return rows.map((row) => ({
      strategyId: id,
      event: row.event,
      fromStatus: row.from_status as StrategyStatus | null,
      toStatus: row.to_status as StrategyStatus,
      at: row.at,
    }));
  }

  async listByStatus(statuses: readonly StrategyStatus[]): Promise<string[]> {
    const rows = await this.read<{ id: string }>(SQL.listByStatus, [statuses]);
    return rows.map((row) => row.id);
  }

  async health(): Promise<boolean> {
    if (this.closing !== undefined) return false;
    try {
      const { rows } = await this.pool.query<{ ok: number }>('SELECT 1 AS ok');
      return rows[0]?.ok === 1;
    } catch {
      return false;
    }
  }

  /** Ends the pool; later calls reject. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async read<Row extends QueryResultRow>(text: string, values: unknown[]): Promise<Row[]> {
    this.ensureOpen();
    try {
      return (await this.pool.query<Row>(text, values)).rows;
    } catch (error) {
      throw this.wrap(error, undefined);
    }
  }

  /**
   * One write statement in its own (autocommit) transaction: one round trip. Every session runs
   * with `synchronous_commit = on` (set when the pool opens the connection), so it is durable
   * when it resolves.
   */
  private async statement(text: string, values: unknown[], id: string): Promise<{ rowCount: number }> {
    this.ensureOpen();
    try {
      return { rowCount: (await this.pool.query(text, values)).rowCount ?? 0 };
    } catch (error) {
      throw this.wrap(error, id);
    }
  }

  /**
   * Runs `work` in one durable transaction on a pooled connection. A connection that failed is
   * destroyed rather than returned to the pool (the server rolls its transaction back).
   */
  private async write<T>(work: (client: PoolClient) => Promise<T>, id?: string): Promise<T> {
    this.ensureOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.wrap(error, id);
    }
    let broken: Error | undefined;
    try {
      await client.query(BEGIN_DURABLE);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = await rollback(client, error);
      throw this.wrap(error, id);
    } finally {
      client.release(broken);
    }
  }

  private ensureOpen(): void {
    if (this.closing !== undefined) {
      throw new QmtlError(ErrorCode.Unavailable, `PostgreSQL strategy store ${this.target} is closed`);
    }
  }

  private wrap(error: unknown, id: string | undefined): QmtlError {
    if (error instanceof QmtlError) return error;
    const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
    const text = error instanceof Error ? error.message : String(error);
    if (code === '23505' && constraint === 'strategies_pkey') {
      return new QmtlError(ErrorCode.InvalidArgument, `Strategy id ${quote(id)} is already stored`, {
        cause: error,
      });
    }
    if (code === '23505' && constraint === 'strategies_active_dag_hash') {
      return new QmtlError(
        ErrorCode.InvalidArgument,
        `Strategy ${quote(id)} cannot leave "stopped": another active strategy holds its DAG hash`,
        { cause: error },
      );
    }
    // Class 22 (data exception), e.g. a \u0000 that JSONB cannot hold.
    if (typeof code === 'string' && code.startsWith('22')) {
      return new QmtlError(ErrorCode.InvalidArgument, `PostgreSQL refused a value: ${text}`, {
        cause: error,
      });
    }
    const reason = text || String(code);
    return new QmtlError(ErrorCode.Unavailable, `PostgreSQL strategy store ${this.target}: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * Rolls back after `error`: returns the error that makes the connection unusable (so the pool
 * destroys it), or undefined when it can be reused. Only a server-reported error (one with an
 * SQLSTATE) leaves the connection healthy; after a network error or a client timeout, a ROLLBACK
 * would only wait behind the lost statement.
 */
async function rollback(client: PoolClient, error: unknown): Promise<Error | undefined> {
  if (!isServerError(error)) return error instanceof Error ? error : new Error(String(error));
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (rollbackError) {
    return rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
  }
}

/** True for an error the server sent (it carries a five-character SQLSTATE), or one of ours. */
function isServerError(error: unknown): boolean {
  if (error instanceof QmtlError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function toRecord(row: StrategyRow): StrategyRecord {
  return {
    id: row.id,
    dagHash: row.dag_hash,
    dagJson: row.dag_json,
    meta: row.meta,
    runType: row.run_type as RunType,
    createdAt: row.created_at,
    status: row.status as StrategyStatus,
    diff: row.diff,
  };
}

/** JSON text for a JSONB parameter (pg would send a JS array as a PostgreSQL array); null stays NULL. */
function toJson(value: unknown): string | null {
  if (value === null) return null;
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new QmtlError(ErrorCode.InvalidArgument, `Value is not JSON-serialisable: ${quote(value)}`, {
      cause: error,
    });
  }
}

/** The pool settings: bounded waits everywhere, so a database outage fails calls instead of hanging them. */
function poolConfig(dsn: string, options: PostgresStrategyStoreOptions, pgTypes: typeof types): PoolConfig {
  const poolSize = options.poolSize ?? 10;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `poolSize must be a positive integer, got ${quote(poolSize)}`,
    );
  }
  const statementTimeoutMs = options.statementTimeoutMs ?? 5_000;
  return {
    connectionString: withSynchronousCommit(dsn),
    max: poolSize,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    // A forgotten close() must not keep a CLI or test process alive.
    allowExitOnIdle: true,
    types: { getTypeParser: int8AsNumber(pgTypes) },
  };
}

/** Listens for connection errors that no statement receives; unheard, they would crash the process. */
function reportConnectionErrors(pool: Pool, target: string): void {
  // A broken idle connection (e.g. a server restart): the pool drops it and opens a new one when needed.
  pool.on('error', (error) => {
    logger.warn(
      { err: error, target },
      'PostgreSQL strategy store: an idle connection failed; the pool replaces it',
    );
  });
  // A connection also reports errors while checked out, or while closing after close(): the
  // running statement (if any) rejects with the same error, so a debug line is enough here.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger.debug({ err: error, target }, 'PostgreSQL strategy store: connection error');
    });
  });
}

/** pg's type parsers, except int8 → number: epoch milliseconds (BIGINT) are far below 2^53. */
function int8AsNumber(pgTypes: typeof types): typeof types.getTypeParser {
  const getTypeParser = (oid: number, format?: 'text' | 'binary'): ((text: string) => unknown) =>
    oid === INT8_OID ? Number : (pgTypes.getTypeParser(oid, format) as (text: string) => unknown);
  return getTypeParser as typeof types.getTypeParser;
}

/**
 * The DSN with `-c synchronous_commit=on` added to its `options` parameter (kept with any options
 * it already has, such as a search_path): every session commits durably, so a 202 never rests on
 * an unflushed commit, whatever the server's default.
 */
function withSynchronousCommit(dsn: string): string {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return dsn; // not a URL (a key=value DSN): the server default applies
  }
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options === null ? '' : `${options} `}-c synchronous_commit=on`);
  return url.toString();
}
