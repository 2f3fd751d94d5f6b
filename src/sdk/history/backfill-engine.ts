import { MAX_TIMER_MS, withDeadline } from '../../common/deadline.js';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { retry, type SleepFn } from '../../common/retry.js';
import { sdkMetrics } from '../metrics.js';
import { BackfillProgress } from './backfill-progress.js';
import type { DataFetcher, HistoryProvider, HistoryRow, StreamKey } from './protocols.js';
import { OutsideRangeFilter } from './range-filter.js';

/** Where a backfill job delivers its rows: a NodeCache, or anything with the same method. */
export interface BackfillTarget {
  backfillBulk(upstreamId: string, interval: number, items: Iterable<readonly [number, unknown]>): void;
}

/** Options of {@link BackfillEngine}. */
export interface BackfillEngineOptions {
  /** Retries after a failed fetch; total tries = `maxRetries + 1`. Default {@link DEFAULT_HISTORY_MAX_RETRIES} (3). */
  readonly maxRetries?: number;
  /**
   * Scale of the retry delays in ms, with full jitter: the delay before retry n is drawn uniformly
   * from `[0, min(maxDelayMs, baseDelayMs * 2^(n-1)))`, so it is random and often shorter than
   * the base (50 may give 22, 97, 35 ms). Only the ceiling doubles. Default 100.
   */
  readonly baseDelayMs?: number;
  /** Upper bound of the retry delay's ceiling in ms. Default 5000. */
  readonly maxDelayMs?: number;
  /**
   * How long one provider call (a `fetch` or `fillMissing` try) may take, in ms, before it fails
   * with `QMTL_TIMEOUT` naming the call, the stream and the range. A timed-out call is not retried:
   * it cannot be cancelled, and trying again would only pile calls onto a provider that stopped
   * answering. `Infinity` waits forever. Default {@link DEFAULT_HISTORY_TIMEOUT_MS} (300 s).
   */
  readonly timeoutMs?: number;
  /** How to wait between tries (inject one in tests). Default setTimeout-based. */
  readonly sleep?: SleepFn;
  /** Jobs fetching at the same time. Default 4. */
  readonly concurrency?: number;
  /** `true`: a progress line on stderr when it is a TTY; a stream: always there. Default off. */
  readonly progress?: boolean | NodeJS.WritableStream;
}

/** Default of {@link BackfillEngineOptions.timeoutMs} and `RunOptions.historyTimeoutMs`: 300 s. */
export const DEFAULT_HISTORY_TIMEOUT_MS = 300_000;

/** Default of {@link BackfillEngineOptions.maxRetries} and `RunOptions.maxRetries`: 3. */
export const DEFAULT_HISTORY_MAX_RETRIES = 3;

/** What a finished job did. */
export interface BackfillJobResult {
  readonly nodeId: string;
  readonly interval: number;
  readonly start: number;
  readonly end: number;
  /** Rows fetched and delivered. */
  readonly rows: number;
  /** Fetch tries it took (1 when the first succeeded). */
  readonly attempts: number;
}

/**
 * Loads history into caches (SPEC §3.7, reference §1.13): each job fetches `[start, end)` from a
 * provider or fetcher with retries and backoff, drops rows outside `[start, end)` (warning once
 * per stream), then hands the rows to its target's `backfillBulk`. Jobs run concurrently up to a limit and report the metrics
 * `backfill_jobs_in_progress`, `backfill_last_timestamp`, `backfill_retry_total` (every failed
 * try) and `backfill_failure_total` (jobs that failed after every try).
 *
 * @example
 * const engine = new BackfillEngine(provider, { maxRetries: 5, progress: true });
 * void engine.submit({ nodeId, interval: 60 }, start, end, nodeCache);
 * await engine.wait();
 */
export class BackfillEngine {
  /** How long one provider call may take, in ms (see {@link BackfillEngineOptions.timeoutMs}). */
  readonly timeoutMs: number;
  /** Retries after a failed try (see {@link BackfillEngineOptions.maxRetries}). */
  readonly maxRetries: number;
  private readonly concurrency: number;
  private readonly retryOptions: { baseDelayMs?: number; maxDelayMs?: number; sleep?: SleepFn };
  private readonly progress: BackfillProgress | null;
  private readonly pending = new Set<Promise<BackfillJobResult>>();
  private readonly queue: (() => void)[] = [];
  /** Drops rows outside the asked range, warning once per stream. */
  private readonly outsideRange = new OutsideRangeFilter('backfill.outside_range', 'the provider');
  private running = 0;
  private failures: unknown[] = [];

  constructor(
    private readonly source: HistoryProvider | DataFetcher,
    options: BackfillEngineOptions = {},
  ) {
    this.maxRetries = options.maxRetries ?? DEFAULT_HISTORY_MAX_RETRIES;
    this.concurrency = options.concurrency ?? 4;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HISTORY_TIMEOUT_MS;
    validateOptions(this.maxRetries, this.concurrency);
    validateTimeout(this.timeoutMs, 'BackfillEngine timeoutMs');
    const { baseDelayMs, maxDelayMs, sleep } = options;
    this.retryOptions = {
      ...(baseDelayMs === undefined ? {} : { baseDelayMs }),
      ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
      ...(sleep === undefined ? {} : { sleep }),
    };
    this.progress = BackfillProgress.fromOption(options.progress);
  }

  /**
   * Starts a tracked job that loads `[start, end)` of `key` into `target`. The returned promise
   * settles with the job; {@link wait} also reports its failure, so it may be left unawaited.
   */
  submit(key: StreamKey, start: number, end: number, target: BackfillTarget): Promise<BackfillJobResult> {
    validateJob(key, start, end);
    const job = this.run(key, start, end, (rows) => {
      target.backfillBulk(
        key.nodeId,
        key.interval,
        rows.map((row) => [row.ts, row] as const),
      );
    });
    this.pending.add(job);
    // Handling the rejection here also keeps an unawaited job from being an unhandled rejection.
    job.then(
      () => this.pending.delete(job),
      (error: unknown) => {
        this.pending.delete(job);
        this.failures.push(error);
      },
    );
    return job;
  }

  /**
   * Fetches `[start, end)` of `key` like a job (retries, metrics, concurrency) but returns the rows.
   * Aborting `signal` abandons the fetch: no further tries, and it rejects with the signal's reason
   * without counting as a failed job (a try already running cannot be taken back). `label` names
   * the stream in a timeout (default: its node id and interval).
   */
  async fetchRows(
    key: StreamKey,
    start: number,
    end: number,
    options: { readonly signal?: AbortSignal; readonly label?: string } = {},
  ): Promise<readonly HistoryRow[]> {
    validateJob(key, start, end);
    let fetched: readonly HistoryRow[] = [];
    await this.run(
      key,
      start,
      end,
      (rows) => {
        fetched = rows;
      },
      options.signal,
      options.label,
    );
    return fetched;
  }

  /**
   * Has the provider fill `[start, end]` (inclusive, as `HistoryProvider.fillMissing`) with the
   * same retries, backoff, metrics (`backfill_retry_total` per failed try,
   * `backfill_failure_total` when every try failed) and concurrency as a fetch: filling only adds
   * rows a provider lacks, so trying again is safe. Rejects with `QMTL_HISTORY_UNAVAILABLE` naming
   * `label` (default: the node id and interval), the range and the last error when every try fails,
   * and with `QMTL_TIMEOUT` when a try takes longer than `timeoutMs`.
   */
  async fillMissing(
    key: StreamKey,
    start: number,
    end: number,
    options: { readonly signal?: AbortSignal; readonly label?: string } = {},
  ): Promise<void> {
    validateJob(key, start, end);
    const source = this.source;
    if (!('fillMissing' in source) || typeof source.fillMissing !== 'function') {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        'BackfillEngine.fillMissing needs a HistoryProvider (an object with fillMissing), got a DataFetcher',
      );
    }
    const labels = { node_id: key.nodeId, interval: String(key.interval) };
    const context = { node_id: key.nodeId, interval: key.interval, start, end, call: 'fillMissing' };
    const tries = { count: 0 };
    await this.acquire();
    sdkMetrics.backfillJobsInProgress.inc();
    const label = options.label ?? streamLabel(key);
    try {
      await this.withRetries(
        () =>
          this.deadline(source.fillMissing(start, end, key), options.signal, () =>
            this.timeout(label, 'fillMissing', `[${start}, ${end}]`),
          ),
        tries,
        labels,
        context,
        options.signal,
      );
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      sdkMetrics.backfillFailureTotal.inc(labels);
      logger.error({ ...context, attempts: tries.count, err: error }, 'backfill.failed');
      if (timeouts.has(error as object)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `history provider of ${label} failed in fillMissing for [${start}, ${end}] after ${tries.count} attempt(s): ${reason}`,
        { cause: error },
      );
    } finally {
      sdkMetrics.backfillJobsInProgress.dec();
      this.release();
    }
  }

  /**
   * Resolves once every submitted job (including jobs submitted meanwhile) has settled; rejects
   * with the first failure, if any. Each failure is reported by one `wait()` only.
   */
  async wait(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    const [first] = this.failures;
    const failed = this.failures.length > 0;
    this.failures = [];
    if (failed) throw first;
  }

  private async run(
    key: StreamKey,
    start: number,
    end: number,
    deliver: (rows: readonly HistoryRow[]) => void,
    signal?: AbortSignal,
    label?: string,
  ): Promise<BackfillJobResult> {
    this.progress?.jobAdded();
    await this.acquire();
    let rows = 0;
    let ok = false;
    try {
      const result = await this.execute(key, start, end, deliver, signal, label);
      rows = result.rows;
      ok = true;
      return result;
    } finally {
      this.release();
      this.progress?.jobFinished(rows, ok);
    }
  }

  private async execute(
    key: StreamKey,
    start: number,
    end: number,
    deliver: (rows: readonly HistoryRow[]) => void,
    signal?: AbortSignal,
    label = streamLabel(key),
  ): Promise<BackfillJobResult> {
    const labels = { node_id: key.nodeId, interval: String(key.interval) };
    const context = { node_id: key.nodeId, interval: key.interval, start, end };
    sdkMetrics.backfillJobsInProgress.inc();
    logger.info(context, 'backfill.start');
    const tries = { count: 0 };
    let fetched = false;
    try {
      const fetchedRows = await this.withRetries(
        async () =>
          (await this.deadline(this.source.fetch(start, end, key), signal, () =>
            this.timeout(label, 'fetch', `[${start}, ${end})`),
          )) ?? [],
        tries,
        labels,
        context,
        signal,
      );
      fetched = true;
      const rows = this.outsideRange.keep(key, start, end, fetchedRows, context);
      deliver(rows);
      sdkMetrics.backfillLastTimestamp.set(labels, end);
      logger.info({ ...context, rows: rows.length, attempts: tries.count }, 'backfill.complete');
      return {
        nodeId: key.nodeId,
        interval: key.interval,
        start,
        end,
        rows: rows.length,
        attempts: tries.count,
      };
    } catch (error) {
      if (signal?.aborted === true && !fetched) {
        logger.debug({ ...context, attempts: tries.count }, 'backfill.abandoned');
        throw signal.reason;
      }
      sdkMetrics.backfillFailureTotal.inc(labels);
      logger.error({ ...context, attempts: tries.count, err: error }, 'backfill.failed');
      if (timeouts.has(error as object)) throw error;
      throw failure(key, start, end, tries.count, fetched, error);
    } finally {
      sdkMetrics.backfillJobsInProgress.dec();
    }
  }

  /**
   * Calls `call` until it resolves, at most `maxRetries + 1` times, with the engine's backoff;
   * every failed try counts in `backfill_retry_total` and is logged. `tries.count` is the number
   * of tries made, also when it throws.
   */
  private withRetries<T>(
    call: () => Promise<T>,
    tries: { count: number },
    labels: { node_id: string; interval: string },
    context: object,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return retry(
      async () => {
        tries.count += 1;
        try {
          return await call();
        } catch (error) {
          sdkMetrics.backfillRetryTotal.inc(labels);
          logger.warn({ ...context, attempt: tries.count, err: error }, 'backfill.retry');
          throw error;
        }
      },
      {
        ...this.retryOptions,
        maxRetries: this.maxRetries,
        retryIf: (error) => !timeouts.has(error as object),
        ...(signal && { signal }),
      },
    );
  }

  /**
   * `call` limited to {@link timeoutMs} (rejecting with `timeout()` then) and cut short by `signal`
   * (rejecting with its reason). The timer is cleared once either settles.
   */
  deadline<T>(call: T | PromiseLike<T>, signal: AbortSignal | undefined, timeout: () => Error): Promise<T> {
    return withDeadline(call, this.timeoutMs, timeout, signal);
  }

  /** The error of a provider call that took longer than {@link timeoutMs}. */
  timeout(label: string, call: string, range: string): QmtlError {
    const error = new QmtlError(
      ErrorCode.Timeout,
      `history provider of ${label} did not answer ${call}${range === '' ? '' : ` of ${range}`} within ${this.timeoutMs} ms (timeoutMs / historyTimeoutMs; a provider call that never settles would hang the run)`,
    );
    timeouts.add(error);
    return error;
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    // The slot is handed over by release(), so `running` stays the same.
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next === undefined) this.running -= 1;
    else next();
  }
}

/** Timeouts raised by engines: never retried (the call they gave up on may still be running). */
const timeouts = new WeakSet<object>();

function streamLabel(key: StreamKey): string {
  return `node ${quote(key.nodeId)} (interval ${key.interval})`;
}

/** A timeout in ms: a positive number up to what setTimeout takes, or Infinity. */
export function validateTimeout(ms: unknown, name: string): void {
  if (ms === Infinity || (typeof ms === 'number' && ms > 0 && ms <= MAX_TIMER_MS)) return;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `${name} must be a positive number of ms up to ${MAX_TIMER_MS}, or Infinity, got ${quote(ms)}`,
  );
}

function failure(
  key: StreamKey,
  start: number,
  end: number,
  attempts: number,
  fetched: boolean,
  cause: unknown,
): QmtlError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const what = `Backfill of node ${quote(key.nodeId)} (interval ${key.interval}) for [${start}, ${end})`;
  const how = fetched
    ? `fetched in ${attempts} attempt(s) but could not be delivered`
    : `failed after ${attempts} attempts`;
  return new QmtlError(ErrorCode.BackfillFailed, `${what} ${how}: ${reason}`, { cause });
}

function validateOptions(maxRetries: number, concurrency: number): void {
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `BackfillEngine maxRetries must be a non-negative integer, got ${quote(maxRetries)}`,
    );
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `BackfillEngine concurrency must be a positive integer, got ${quote(concurrency)}`,
    );
  }
}

function validateJob(key: StreamKey, start: number, end: number): void {
  if (!Number.isFinite(start) || !Number.isFinite(end) || start > end) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `Backfill range must be finite with start <= end, got [${quote(start)}, ${quote(end)})`,
    );
  }
  if (!(Number.isFinite(key.interval) && key.interval > 0)) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `Backfill interval must be a positive number of seconds, got ${quote(key.interval)}`,
    );
  }
}
