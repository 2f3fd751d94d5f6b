import type { Database, Statement, Transaction } from 'better-sqlite3';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { StrategyStatus, type RunType } from '../strategy-status.js';
import type {
  InsertOutcome,
  NewStrategy,
  StoredDiff,
  StrategyEventRecord,
  StrategyRecord,
  StrategyStore,
} from './strategy-store.js';

/** Options of {@link SqliteStrategyStore.open}. */
export interface SqliteStrategyStoreOptions {
  /** How long a write waits for another connection's lock (another Gateway process), in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

/**
 * The schema, created idempotently on open. The partial unique index is the 409 dedupe: at most
 * one strategy that is not stopped holds a DAG hash, whichever process inserts it. meta and diff
 * are JSON text.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS strategies (
  id TEXT PRIMARY KEY,
  dag_hash TEXT NOT NULL,
  dag_json TEXT NOT NULL,
  meta TEXT,
  run_type TEXT NOT NULL,
  status TEXT NOT NULL,
  diff TEXT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS strategies_active_dag_hash ON strategies (dag_hash) WHERE status <> 'stopped';
CREATE INDEX IF NOT EXISTS strategies_status ON strategies (status, created_at, id);
CREATE TABLE IF NOT EXISTS strategy_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  strategy_id TEXT NOT NULL REFERENCES strategies (id),
  event TEXT NOT NULL,
  from_status TEXT,
  to_status TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS strategy_events_strategy_id ON strategy_events (strategy_id, id);
`;

const SQL = {
  insert: `INSERT INTO strategies (id, dag_hash, dag_json, meta, run_type, status, diff, created_at)
    VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
    ON CONFLICT (dag_hash) WHERE status <> 'stopped' DO NOTHING`,
  holder: `SELECT id, status FROM strategies WHERE dag_hash = ? AND status <> 'stopped'`,
  event: `INSERT INTO strategy_events (strategy_id, event, from_status, to_status, at) VALUES (?, ?, ?, ?, ?)`,
  get: `SELECT id, dag_hash, dag_json, meta, run_type, status, diff, created_at FROM strategies WHERE id = ?`,
  transition: `UPDATE strategies SET status = ?, diff = COALESCE(?, diff) WHERE id = ? AND status = ?`,
  saveDiff: `UPDATE strategies SET diff = ? WHERE id = ?`,
  events: `SELECT event, from_status, to_status, at FROM strategy_events WHERE strategy_id = ? ORDER BY id`,
  // The statuses arrive as one JSON array parameter, so the statement never changes shape.
  listByStatus: `SELECT id FROM strategies WHERE status IN (SELECT value FROM json_each(?))
    ORDER BY created_at, id`,
} as const;

interface StrategyRow {
  id: string;
  dag_hash: string;
  dag_json: string;
  meta: string | null;
  run_type: string;
  status: string;
  diff: string | null;
  created_at: number;
}

interface EventRow {
  event: string;
  from_status: string | null;
  to_status: string;
  at: number;
}

/**
 * The file path in a SQLite DSN: `sqlite:///abs/path.db` → `/abs/path.db`, `sqlite://rel.db` →
 * `rel.db`, a plain path as is; an empty path is an in-memory database (`:memory:`).
 */
export function sqlitePathFromDsn(dsn: string): string {
  const path = dsn.startsWith('sqlite://') ? dsn.slice('sqlite://'.length) : dsn;
  return path === '' ? ':memory:' : path;
}

/** A write waiting for the group commit of this event-loop turn. */
interface PendingWrite {
  readonly operation: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly id: string | undefined;
}

/**
 * The {@link StrategyStore} on a SQLite file (better-sqlite3, loaded on first open): WAL journal
 * and `synchronous = FULL`, so a resolved write is on disk; a busy timeout lets several Gateway
 * processes share one file. Each write is one `BEGIN IMMEDIATE` transaction.
 *
 * @example
 * const store = await SqliteStrategyStore.open('sqlite:///var/lib/qmtl/gateway.db');
 * const outcome = await store.insert(submission);
 * await store.close();
 */
export class SqliteStrategyStore implements StrategyStore {
  private readonly statements: { [K in keyof typeof SQL]: Statement };
  private readonly insertTx: Transaction<(strategy: NewStrategy) => InsertOutcome>;
  /** Runs a group of writes in one transaction (each store transaction inside is a savepoint). */
  private readonly groupTx: Transaction<(writes: () => void) => void>;
  private pending: PendingWrite[] = [];
  private readonly transitionTx: Transaction<
    (
      id: string,
      from: StrategyStatus,
      to: StrategyStatus,
      event: string,
      at: number,
      diff: string | null,
    ) => boolean
  >;

  private constructor(
    private readonly db: Database,
    /** The database file, or `:memory:`. */
    readonly path: string,
  ) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      insert: prepare(SQL.insert),
      holder: prepare(SQL.holder),
      event: prepare(SQL.event),
      get: prepare(SQL.get),
      transition: prepare(SQL.transition),
      saveDiff: prepare(SQL.saveDiff),
      events: prepare(SQL.events),
      listByStatus: prepare(SQL.listByStatus).pluck(),
    };
    this.insertTx = db.transaction((strategy: NewStrategy) => this.insertRow(strategy));
    this.groupTx = db.transaction((writes: () => void) => writes());
    this.transitionTx = db.transaction(
      (
        id: string,
        from: StrategyStatus,
        to: StrategyStatus,
        event: string,
        at: number,
        diff: string | null,
      ) => {
        const { changes } = this.statements.transition.run(to, diff, id, from);
        if (changes === 0) return false;
        this.statements.event.run(id, event, from, to, at);
        return true;
      },
    );
  }

  /**
   * Opens (creating when missing) the database of `dsn` and its schema.
   * @throws QmtlError `QMTL_UNAVAILABLE` when the file cannot be opened or the schema not created.
   */
  static async open(
    dsn = ':memory:',
    options: SqliteStrategyStoreOptions = {},
  ): Promise<SqliteStrategyStore> {
    const path = sqlitePathFromDsn(dsn);
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    let db: Database | undefined;
    try {
      db = new BetterSqlite3(path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5_000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      return new SqliteStrategyStore(db, path);
    } catch (error) {
      db?.close();
      const reason = `Cannot open SQLite strategy store ${quote(path)}: ${message(error)}`;
      throw new QmtlError(ErrorCode.Unavailable, reason, { cause: error });
    }
  }

  insert(strategy: NewStrategy): Promise<InsertOutcome> {
    return this.write(() => this.insertTx(strategy), strategy.id);
  }

  get(id: string): Promise<StrategyRecord | null> {
    return this.run(() => {
      const row = this.statements.get.get(id) as StrategyRow | undefined;
      return row === undefined ? null : toRecord(row);
    });
  }

  transition(
    id: string,
    from: StrategyStatus,
    to: StrategyStatus,
    event: string,
    at: number,
    diff?: StoredDiff,
  ): Promise<boolean> {
    const json = diff === undefined ? null : toJson(diff);
    return this.write(() => this.transitionTx(id, from, to, event, at, json), id);
  }

  saveDiff(id: string, diff: StoredDiff): Promise<void> {
    return this.write(() => {
      const { changes } = this.statements.saveDiff.run(toJson(diff), id);
      if (changes === 0) throw new QmtlError(ErrorCode.NotFound, `Unknown strategy ${quote(id)}`);
    });
  }

  events(id: string): Promise<StrategyEventRecord[]> {
    return this.run(() =>
      (this.statements.events.all(id) as EventRow[]).map((row) => ({
        strategyId: id,
        event: row.event,
        fromStatus: row.from_status as StrategyStatus | null,
        toStatus: row.to_status as StrategyStatus,
        at: row.at,
      })),
    );
  }

  listByStatus(statuses: readonly StrategyStatus[]): Promise<string[]> {
    return this.run(() => this.statements.listByStatus.all(JSON.stringify(statuses)) as string[]);
  }

  health(): Promise<boolean> {
    try {
      return Promise.resolve(this.db.open && this.db.prepare('SELECT 1').pluck().get() === 1);
    } catch {
      return Promise.resolve(false);
    }
  }

  close(): Promise<void> {
    if (this.pending.length > 0) this.commitPending();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /**
   * Group commit: writes made in the same event-loop turn run as savepoints of one
   * `BEGIN IMMEDIATE` transaction, committed (one fsync) at `setImmediate`; each promise settles
   * after that commit, so a resolved write is durable. A failing write rolls back alone; a failing
   * COMMIT rejects every write of the group. Under load this turns one fsync per write into one per
   * turn, and the event loop stops waiting on the disk for each write.
   */
  private write<T>(operation: () => T, id?: string): Promise<T> {
    if (!this.db.open) return this.run(operation, id);
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.commitPending());
      this.pending.push({ operation, resolve: resolve as (value: unknown) => void, reject, id });
    });
  }

  private commitPending(): void {
    const jobs = this.pending;
    this.pending = [];
    if (jobs.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      if (!this.db.open)
        throw new QmtlError(ErrorCode.Unavailable, `SQLite strategy store ${quote(this.path)} is closed`);
      this.groupTx.immediate(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: job.operation() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const job of jobs) job.reject(this.wrap(error, job.id));
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(this.wrap(outcome.error, job.id));
    });
  }

  /** Inside the insert transaction: the row and its INIT event, or the current holder of the hash. */
  private insertRow(strategy: NewStrategy): InsertOutcome {
    const { changes } = this.statements.insert.run(
      strategy.id,
      strategy.dagHash,
      strategy.dagJson,
      toJson(strategy.meta),
      strategy.runType,
      StrategyStatus.Queued,
      strategy.createdAt,
    );
    if (changes === 1) {
      this.statements.event.run(strategy.id, 'INIT', null, StrategyStatus.Queued, strategy.createdAt);
      return { inserted: true };
    }
    // The write lock of BEGIN IMMEDIATE is held, so the holder cannot change under us.
    const holder = this.statements.holder.get(strategy.dagHash) as { id: string; status: string } | undefined;
    if (holder === undefined) {
      throw new Error(`DAG hash ${quote(strategy.dagHash)} conflicted without a holder`);
    }
    return { inserted: false, existingId: holder.id, existingStatus: holder.status as StrategyStatus };
  }

  /** Runs a synchronous database call as a promise, with SQLite errors turned into QmtlErrors. */
  private run<T>(operation: () => T, id?: string): Promise<T> {
    try {
      if (!this.db.open) {
        throw new QmtlError(ErrorCode.Unavailable, `SQLite strategy store ${quote(this.path)} is closed`);
      }
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(this.wrap(error, id));
    }
  }

  private wrap(error: unknown, id: string | undefined): QmtlError {
    if (error instanceof QmtlError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new QmtlError(ErrorCode.InvalidArgument, `Strategy id ${quote(id)} is already stored`, {
        cause: error,
      });
    }
    if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
      return new QmtlError(
        ErrorCode.InvalidArgument,
        `Strategy ${quote(id)} cannot leave "stopped": another active strategy holds its DAG hash`,
        { cause: error },
      );
    }
    const reason = `SQLite strategy store ${quote(this.path)}: ${message(error)}`;
    return new QmtlError(ErrorCode.Unavailable, reason, { cause: error });
  }
}

function toRecord(row: StrategyRow): StrategyRecord {
  return {
    id: row.id,
    dagHash: row.dag_hash,
    dagJson: row.dag_json,
    meta: row.meta === null ? null : (JSON.parse(row.meta) as Record<string, unknown>),
    runType: row.run_type as RunType,
    createdAt: row.created_at,
    status: row.status as StrategyStatus,
    diff: row.diff === null ? null : (JSON.parse(row.diff) as StoredDiff),
  };
}

/** JSON text for a JSON column; null stays SQL NULL. */
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
