import { ErrorCode, QmtlError, quote, type Problem } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import { sleep } from '../../../common/retry.js';
import { validateTimeout } from '../../history/backfill-engine.js';
import type { HistoryRow } from '../../history/protocols.js';
import type { LiveFeedHandle, LiveFeedStart } from '../live-feed.js';

/**
 * The lifecycle every feed adapter shares: it checks the start options, hands rows to `onRow` one
 * at a time, keeps only rows at or after `from` and newer than the last delivered, reports a
 * failure once, and ends on `stop()` after the `onRow` call in progress.
 *
 * A feed drives it from its own loop or callbacks: `deliver(row)` for every candidate row,
 * `finish()` when its source ran dry, `fail(error)` when it gives up; `signal` aborts when the
 * run ended for any reason, so sleeps and sockets can be cut short.
 */
export class FeedRun {
  /** Resolves once the run ended and no `onRow` call is running. Never rejects. */
  readonly done: Promise<void>;
  readonly #feed: string;
  readonly #start: LiveFeedStart;
  readonly #abort = new AbortController();
  readonly #closers: (() => Promise<void>)[] = [];
  #resolveDone: () => void = () => undefined;
  #ending: Promise<void> | null = null;
  #inFlight: Promise<unknown> = Promise.resolve();
  #last: number | null = null;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid start option. */
  constructor(feed: string, start: LiveFeedStart) {
    checkStart(feed, start);
    this.#start = start;
    this.#feed = feed;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Aborts when the run ended (finished, failed or stopped). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True once the run ended: no `onRow` call will start any more. */
  get ended(): boolean {
    return this.#abort.signal.aborted;
  }

  /** The stream's bar interval in seconds. */
  get interval(): number {
    return this.#start.key.interval;
  }

  /** The `ts` of the last row delivered, or null before the first. */
  get last(): number | null {
    return this.#last;
  }

  /** The first bucket not delivered yet: `from`, then the bucket after the last delivered. */
  get next(): number {
    return this.#last === null ? this.#start.from : Math.max(this.#start.from, this.#last + this.interval);
  }

  /** Logs through the shared logger, tagged with the feed's name and the stream's node id. */
  log(level: 'debug' | 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    logger[level]({ feed: this.#feed, nodeId: this.#start.key.nodeId, ...fields }, message);
  }

  /** The handle `start()` returns. */
  handle(): LiveFeedHandle {
    return { done: this.done, stop: () => this.#end() };
  }

  /** Runs `close` when the run ends (at once if it already has); `stop()` waits for it. */
  onEnd(close: () => Promise<void>): void {
    if (this.ended) void this.#runCloser(close);
    else this.#closers.push(close);
  }

  /**
   * Hands `row` to `onRow` and waits for it, unless the row is older than `from`, not newer than
   * the last delivered row, or has no numeric `ts` (skipped). Resolves true when the row was
   * delivered or skipped; false when it was not delivered because the run had ended or because
   * `onRow` rejected, which fails the run.
   */
  async deliver(row: HistoryRow): Promise<boolean> {
    if (this.ended) return false;
    const ts: unknown = row.ts;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      this.log('warn', { ts: quote(ts) }, 'live feed skipped a row without a numeric ts');
      return true;
    }
    if (ts < this.#start.from || (this.#last !== null && ts <= this.#last)) return true;
    this.#last = ts;
    const call = (async () => this.#start.onRow(row))();
    this.#inFlight = call.catch(() => undefined);
    try {
      await call;
      return true;
    } catch (error) {
      this.fail(asError(error));
      return false;
    }
  }

  /** Waits `ms` unless the run ends first; resolves false when it ended. */
  pause(ms: number): Promise<boolean> {
    return sleep(ms, this.signal).then(
      () => !this.ended,
      () => false,
    );
  }

  /** Ends the run because the source ran dry. */
  finish(): void {
    void this.#end();
  }

  /** Ends the run and reports `error` through `onError` (only the first failure is reported). */
  fail(error: Error): void {
    if (this.ended) return;
    this.log('error', { err: error }, 'live feed failed');
    void this.#end();
    try {
      this.#start.onError(error);
    } catch (thrown) {
      this.log('error', { err: thrown }, 'live feed onError handler threw');
    }
  }

  #end(): Promise<void> {
    this.#ending ??= (async () => {
      this.#abort.abort();
      await Promise.all([this.#inFlight, ...this.#closers.splice(0).map((close) => this.#runCloser(close))]);
      this.#resolveDone();
    })();
    return this.#ending;
  }

  async #runCloser(close: () => Promise<void>): Promise<void> {
    try {
      await close();
    } catch (error) {
      this.log('warn', { err: error }, 'live feed could not release its source cleanly');
    }
  }
}

/** Turns anything thrown into an Error (a feed reports Errors). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function checkStart(feed: string, start: LiveFeedStart): void {
  if (typeof start !== 'object' || start === null)
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `${feed} start options must be an object, got ${quote(start)}`,
    );
  const problems: Problem[] = [];
  const bad = (message: string): void => void problems.push({ code: ErrorCode.InvalidArgument, message });
  const key = start.key as Partial<LiveFeedStart['key']> | undefined;
  if (typeof key?.nodeId !== 'string') bad(`key.nodeId must be a string, got ${quote(key?.nodeId)}`);
  if (!Number.isSafeInteger(key?.interval) || (key?.interval ?? 0) < 1)
    bad(`key.interval must be a positive integer (seconds), got ${quote(key?.interval)}`);
  if (!Number.isSafeInteger(start.from))
    bad(`from must be an integer (epoch seconds), got ${quote(start.from)}`);
  if (typeof start.onRow !== 'function') bad(`onRow must be a function, got ${quote(start.onRow)}`);
  if (typeof start.onError !== 'function') bad(`onError must be a function, got ${quote(start.onError)}`);
  const retries = start.historyMaxRetries;
  if (retries !== undefined && !(Number.isSafeInteger(retries) && retries >= 0))
    bad(`historyMaxRetries must be a non-negative integer, got ${quote(retries)}`);
  if (start.historyTimeoutMs !== undefined) {
    try {
      validateTimeout(start.historyTimeoutMs, 'historyTimeoutMs');
    } catch (error) {
      bad((error as Error).message);
    }
  }
  if (problems.length > 0) throw QmtlError.fromProblems(`Invalid ${feed} start options`, problems);
}
