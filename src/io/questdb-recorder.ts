import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { EventRecorder } from '../sdk/history/protocols.js';
import { formatTime } from '../common/time.js';
import { sdkMetrics } from '../sdk/metrics.js';
import { formatIlpLine, ilpLineTime } from './ilp.js';
import { LineQueue } from './line-queue.js';
import { createIlpSender, IlpUnavailableError, type IlpSender } from './ilp-sender.js';
import { sendIsolatingRefused, type RefusedLine } from './send-isolating-refused.js';
import { rejectUnknownKeys } from '../sdk/node-options.js';
import { DEFAULT_QUESTDB_DSN, QuestDBClient } from './questdb-client.js';
import { QUESTDB_KEY_COLUMNS, quoteIdentifier } from './questdb-sql.js';

/** Longest `Retry-After` of QuestDB (or a proxy) the retry timer waits for, in ms. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Options of {@link QuestDBRecorder}. */
export interface QuestDBRecorderOptions {
  /** PostgreSQL-wire DSN, used once per table to create it. Default `postgresql://admin:quest@127.0.0.1:8812/qdb`. */
  readonly dsn?: string;
  /**
   * Where the rows go, over InfluxDB line protocol: `http://host:9000` (each batch confirmed) or
   * `tcp://host:9009` (faster, but QuestDB confirms nothing: rows sent just before it drops the
   * connection can be lost). Default `http://` + the DSN's host + `:9000`.
   */
  readonly ilp?: string;
  /** A ready ILP transport instead of `ilp` (tests, custom clients). */
  readonly sender?: IlpSender;
  /** Table to write. Default: the node id of the StreamInput the recorder is attached to. */
  readonly table?: string;
  /** Rows buffered before a flush. Default 1000. */
  readonly batchRows?: number;
  /** Longest time a row waits in the buffer, in ms; also the retry interval during an outage. Default 1000. */
  readonly flushIntervalMs?: number;
  /**
   * Rows kept while QuestDB is unreachable; past this the oldest are dropped (and reported).
   * Default 1,000,000.
   */
  readonly maxBufferedRows?: number;
  /**
   * Create the table (with `ts` as designated timestamp) before the first write. Default true;
   * turn off only when the table already exists in this layout, since a table QuestDB creates on
   * its own from ILP names its timestamp `timestamp` and the loader cannot read it.
   */
  readonly createTable?: boolean;
  /** How long opening a connection (to create the table) may take. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** How long one batch may take over ILP/HTTP before it fails and is kept for a retry. Default 30 000 ms. */
  readonly sendTimeoutMs?: number;
}

const RECORDER_OPTION_KEYS = [
  'dsn',
  'ilp',
  'sender',
  'table',
  'batchRows',
  'flushIntervalMs',
  'maxBufferedRows',
  'createTable',
  'connectTimeoutMs',
  'sendTimeoutMs',
] as const satisfies readonly (keyof QuestDBRecorderOptions)[];

/**
 * An {@link EventRecorder} that writes every bar a StreamInput emits to QuestDB over InfluxDB line
 * protocol, in the table layout {@link QuestDBLoader} reads (`node_id`, `interval`, `ts`, then the
 * payload's fields), so recorded bars are history for the next run. Rows are buffered and sent
 * when `batchRows` are waiting, `flushIntervalMs` after the first one, on {@link flush} and on
 * {@link close}. The table is created on first use (via the PostgreSQL wire) with `ts` as its
 * designated timestamp. Written rows become visible to queries shortly after a flush (QuestDB
 * applies its write-ahead log asynchronously).
 *
 * While QuestDB is unreachable (`QMTL_UNAVAILABLE`, `QMTL_TIMEOUT`; over ILP/HTTP also an answer
 * 408, 429, 502, 503 or 504) nothing is lost: the rows stay buffered and are sent again,
 * `batchRows` per request, every `flushIntervalMs` (or after the answer's `Retry-After` when that
 * is later, at most 60 s) until QuestDB is back (the table de-duplicates on `ts`, `node_id`, `interval`, so a batch sent twice is stored
 * once), up to `maxBufferedRows`; meanwhile rows are only buffered. QuestDB rejects a batch over
 * ILP/HTTP as a whole; when it blames the rows (HTTP 400, e.g. a string for a DOUBLE column) the
 * recorder sends each half again, and so on, so that only the rows QuestDB refuses on their own are
 * dropped (logged with their time and QuestDB's reason, counted in `recorder_rows_dropped_total`);
 * a batch rejected otherwise (e.g. HTTP 500) is dropped whole. The batches after it are still sent.
 * Either failure is logged when it happens, and rejects the {@link flush} or {@link close} that
 * meets it or comes next; {@link persist} keeps accepting rows. The retry timer does not keep the
 * process alive.
 *
 * @example
 * const recorder = new QuestDBRecorder({ table: 'btc_1m' });
 * await recorder.persist('btc', 60, 1_700_000_040, { open: 1, close: 2 });
 * await recorder.close();
 */
export class QuestDBRecorder implements EventRecorder {
  private readonly client: QuestDBClient;
  private readonly sender: IlpSender;
  private readonly explicitTable: string | undefined;
  private readonly batchRows: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedRows: number;
  private readonly createTable: boolean;
  private boundTable: string | undefined;
  private readonly queue = new LineQueue();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Rows numbered below this are already in a flush that is queued or in flight. */
  private flushingUntil = 0;
  /** True from a send QuestDB could not be reached for until one goes through: the timer retries. */
  private unreachable = false;
  private failed: Error | undefined;
  /** Rows dropped by the `maxBufferedRows` limit and not reported yet. */
  private overflowed = 0;
  /** Errors of sends whose rows were kept for a retry (nothing to report later). */
  private readonly retried = new WeakSet<object>();

  constructor(options: QuestDBRecorderOptions = {}) {
    rejectUnknownKeys(options, RECORDER_OPTION_KEYS, 'QuestDBRecorder', { code: ErrorCode.InvalidArgument });
    const dsn = options.dsn ?? DEFAULT_QUESTDB_DSN;
    this.client = new QuestDBClient(dsn, 1, { connectTimeoutMs: options.connectTimeoutMs });
    this.sender =
      options.sender ??
      createIlpSender(options.ilp ?? `http://${hostOf(dsn)}:9000`, {
        timeoutMs: positiveInteger(options.sendTimeoutMs ?? 30_000, 'sendTimeoutMs'),
      });
    if (options.table !== undefined) quoteIdentifier(options.table, 'table');
    this.explicitTable = options.table;
    this.batchRows = positiveInteger(options.batchRows ?? 1000, 'batchRows');
    this.flushIntervalMs = positiveInteger(options.flushIntervalMs ?? 1000, 'flushIntervalMs');
    this.maxBufferedRows = positiveInteger(options.maxBufferedRows ?? 1_000_000, 'maxBufferedRows');
    this.createTable = options.createTable ?? true;
  }

  /** The table written: the explicit one, else the bound stream's node id. */
  get table(): string {
    const table = this.explicitTable ?? this.boundTable;
    if (table === undefined) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        'QuestDBRecorder has no table: pass options.table or give the recorder to a StreamInput as its eventRecorder',
      );
    }
    return table;
  }

  /** Called by the owning StreamInput: its node id becomes the default table. */
  bindStream(stream: { readonly nodeId: string }): void {
    this.boundTable = stream.nodeId;
  }

  /** Rows waiting in the buffer (those of a batch in flight included). */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Buffers one bar: `timestamp` (epoch seconds) becomes `ts`, the payload's fields become columns
   * (numbers as DOUBLE, bigints as LONG, strings, booleans, Dates); payload fields named like a
   * key column (`node_id`, `interval`, `ts`, in any case) are ignored, and fields whose names
   * differ only in case are refused. The payload must be a plain object. Resolves once buffered,
   * or once sent when this row fills the batch; while QuestDB is unreachable the row stays
   * buffered and this resolves (the outage is reported by {@link flush} and {@link close}).
   */
  async persist(nodeId: string, interval: number, timestamp: number, payload: unknown): Promise<void> {
    if (
      typeof payload !== 'object' ||
      payload === null ||
      Array.isArray(payload) ||
      payload instanceof Date
    ) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `QuestDBRecorder.persist: payload must be a record of fields, got ${quote(payload)}`,
      );
    }
    if (!Number.isSafeInteger(interval) || interval <= 0) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `QuestDBRecorder.persist: interval must be a positive integer of seconds, got ${quote(interval)}`,
      );
    }
    this.queue.push(formatIlpLine(this.table, { node_id: nodeId }, rowFields(interval, payload), timestamp));
    this.dropOverflow();
    // While QuestDB is unreachable the retry timer sends; a send per row would only pile up. Rows
    // a flush already has are not counted, or each row arriving during a send would send itself.
    const unclaimed = this.queue.endSeq - Math.max(this.queue.firstSeq, this.flushingUntil);
    if (unclaimed < this.batchRows || this.unreachable) {
      this.scheduleFlush();
      return;
    }
    // The row is accepted even when QuestDB is unreachable now: it stays buffered for the retry.
    await this.flush().catch((error: unknown) => {
      if (!this.retried.has(error as object)) throw error;
    });
  }

  /**
   * Sends every buffered row, `batchRows` per request; rejects with the failure of this or an
   * earlier background flush. Rows QuestDB could not be reached for stay buffered for the next
   * flush; rows QuestDB refuses are dropped and the rest still sent.
   */
  async flush(): Promise<void> {
    this.clearTimer();
    const until = this.queue.endSeq;
    this.flushingUntil = until;
    const send = this.flushing.then(() => this.sendUntil(until));
    this.flushing = send.catch(() => undefined);
    await send;
    this.throwIfFailed();
  }

  /**
   * Sends the held rows numbered below `until`, oldest first, one batch at a time. Of a batch
   * QuestDB rejects for its rows, only the rows it refuses on their own are dropped.
   */
  private async sendUntil(until: number): Promise<void> {
    let rejected: Error | undefined;
    while (this.queue.firstSeq < until) {
      const from = this.queue.firstSeq;
      const lines = this.queue.peek(Math.min(this.batchRows, until - from));
      try {
        if (this.createTable) await this.client.ensureTable(this.table);
        const refused = await sendIsolatingRefused(this.sender, lines);
        this.unreachable = false;
        this.queue.dropBefore(from + lines.length);
        if (refused.length > 0) rejected ??= this.reportRefused(refused, lines.length);
      } catch (error) {
        if (!isUnreachable(error)) {
          // QuestDB's answer about the whole batch (e.g. HTTP 500): sent again it would fail the
          // same way, so it is dropped (rows the maxBufferedRows limit dropped meanwhile are
          // reported by it).
          this.unreachable = false;
          const dropped = this.queue.dropBefore(from + lines.length);
          this.countDropped('refused', dropped);
          if (error instanceof QmtlError) error.message += ` (${dropped} rows not written)`;
          rejected ??= asError(error);
          continue;
        }
        if (rejected !== undefined) this.failed ??= rejected;
        throw this.keepForRetry(error);
      }
    }
    if (rejected !== undefined) throw rejected;
  }

  /** Logs and counts the rows QuestDB refused on their own; returns the error that reports them. */
  private reportRefused(refused: readonly RefusedLine[], batch: number): QmtlError {
    const table = this.table;
    const rows = refused.map(({ line, error }) => ({
      ts: formatTime(ilpLineTime(line)),
      reason: error.reason,
    }));
    logger.error(
      { table, refused: refused.length, written: batch - refused.length, rows },
      'questdb refused rows: dropped',
    );
    this.countDropped('refused', refused.length);
    const [first] = rows;
    return new QmtlError(
      ErrorCode.InvalidArgument,
      `QuestDB refused ${refused.length} of ${batch} rows of table ${quote(table)}, which were dropped ` +
        `(the other ${batch - refused.length} were written); the first, at ${first?.ts}: ${first?.reason}`,
    );
  }

  /** Counts dropped rows in `recorder_rows_dropped_total`. */
  private countDropped(reason: 'refused' | 'overflow', rows: number): void {
    if (rows > 0) sdkMetrics.recorderRowsDroppedTotal.inc({ table: this.table, reason }, rows);
  }

  /**
   * After a send QuestDB could not be reached for: its rows stay held and the timer retries, in
   * `flushIntervalMs` or after the answer's `Retry-After` when that is later (at most 60 s).
   */
  private keepForRetry(error: QmtlError): QmtlError {
    this.unreachable = true;
    const retryAfter = error instanceof IlpUnavailableError ? (error.retryAfterMs ?? 0) : 0;
    const delayMs = Math.max(this.flushIntervalMs, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
    this.scheduleFlush(delayMs);
    error.message += ` (${this.queue.length} rows kept; sent again in ${delayMs} ms)`;
    this.retried.add(error);
    return error;
  }

  /** Drops the oldest rows past `maxBufferedRows`; the next flush or close reports them. */
  private dropOverflow(): void {
    const excess = this.queue.length - this.maxBufferedRows;
    if (excess <= 0) return;
    const dropped = this.queue.dropBefore(this.queue.firstSeq + excess);
    this.overflowed += dropped;
    this.countDropped('overflow', dropped);
  }

  /** Flushes, then closes the ILP connection and the connection pool. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.clearTimer();
      await Promise.allSettled([this.sender.close(), this.client.close()]).then(([sender]) => {
        if (sender?.status === 'rejected') throw sender.reason;
      });
    }
  }

  private flushOnTimer(): void {
    this.timer = undefined;
    this.flush().catch((error: unknown) => {
      logger.error(
        { err: error, table: this.explicitTable ?? this.boundTable, pending: this.queue.length },
        'questdb recorder flush failed',
      );
      // Rows kept for a retry are not lost; anything else is reported by the next flush/close.
      if (!this.retried.has(error as object)) this.failed ??= asError(error);
    });
  }

  /**
   * Flushes `delayMs` (default `flushIntervalMs`) from now unless a flush is already due. A retry during an outage
   * does not keep the process alive on its own: a script that ends without {@link close} would
   * otherwise wait for QuestDB for ever (close() reports the rows not written instead).
   */
  private scheduleFlush(delayMs = this.flushIntervalMs): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flushOnTimer(), delayMs);
    if (this.unreachable) this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwIfFailed(): void {
    const failed = this.failed;
    this.failed = undefined;
    if (failed !== undefined) throw failed;
    const overflowed = this.overflowed;
    this.overflowed = 0;
    if (overflowed > 0) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `QuestDB recorder dropped its ${overflowed} oldest rows: more than maxBufferedRows (${this.maxBufferedRows}) waited while QuestDB was unreachable`,
      );
    }
  }
}

/** True for a failure to reach QuestDB (rows are kept for a retry), not an answer about the rows. */
function isUnreachable(error: unknown): error is QmtlError {
  return (
    error instanceof QmtlError && (error.code === ErrorCode.Unavailable || error.code === ErrorCode.Timeout)
  );
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The ILP fields of a row: `interval`, then the payload's fields. QuestDB column names are
 * case-insensitive, so payload fields named like a key column in any case (`TS`, `Node_Id`) are
 * left out, and two fields that differ only in case are refused (QuestDB would keep one of them).
 */
function rowFields(interval: number, payload: object): Record<string, unknown> {
  const fields: Record<string, unknown> = { interval: BigInt(interval) };
  const seen = new Map<string, string>();
  for (const [field, value] of Object.entries(payload)) {
    const folded = field.toLowerCase();
    if ((QUESTDB_KEY_COLUMNS as readonly string[]).includes(folded)) continue;
    const twin = seen.get(folded);
    if (twin !== undefined) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `QuestDBRecorder.persist: payload fields ${quote(twin)} and ${quote(field)} are one column in QuestDB (names are case-insensitive); rename one`,
      );
    }
    seen.set(folded, field);
    quoteIdentifier(field, 'column');
    fields[field] = value;
  }
  return fields;
}

function hostOf(dsn: string): string {
  try {
    return new URL(dsn).hostname || '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new QmtlError(ErrorCode.InvalidArgument, `${name} must be a positive integer, got ${quote(value)}`);
  }
  return value;
}
