import { ErrorCode, QmtlError, quote } from '../../../common/errors.js';
import {
  BackfillEngine,
  DEFAULT_HISTORY_MAX_RETRIES,
  DEFAULT_HISTORY_TIMEOUT_MS,
} from '../../history/backfill-engine.js';
import type { HistoryProvider, HistoryRow, StreamKey } from '../../history/protocols.js';
import { inTimestampOrder } from '../../history/row-order.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';
import { asError, FeedRun } from './feed-run.js';
import {
  nonNegativeNumber,
  objectWith,
  positiveInteger,
  safeInteger,
  validateOptions,
} from './feed-options.js';

/** Options of a {@link ReplayFeed}. */
export interface ReplayFeedOptions {
  /** Where the bars come from: any provider (a generator, a recorded file, memory). */
  readonly provider: HistoryProvider;
  /** Wait between two bars, in ms. Default 0: as fast as the consumer takes them. */
  readonly paceMs?: number;
  /** The last bucket played (inclusive, epoch seconds). Default: the end of the provider's coverage. */
  readonly until?: number;
  /** Bars fetched per provider call, which bounds the memory held. Default 4096. */
  readonly windowBars?: number;
}

const CHECKS = {
  provider: objectWith('fetch', 'coverage'),
  paceMs: nonNegativeNumber,
  until: safeInteger,
  windowBars: positiveInteger,
};

/**
 * A feed that plays a {@link HistoryProvider}'s rows as if they were arriving live: every row with
 * `from <= ts <= until`, ascending, fetched window by window so memory stays bounded, each handed
 * over only after the previous `onRow` settled. Each window is played in timestamp order (sorted
 * like a backtest's, stable for equal timestamps) whatever order the provider answers in; a row
 * not newer than the last played (a repeated `ts`: every feed drops it) is counted and warned
 * about once per stream (`replay.not_delivered`), never lost silently. Over a seeded generator it replays the same bars
 * from any bucket, which makes dry runs reproducible. The feed ends when the rows run out.
 *
 * Provider calls follow the rules of backtest history loading, through the same BackfillEngine:
 * each `fetch` and `coverage` has the run's `historyTimeoutMs` (the start option, default 300 s)
 * to settle, else the feed ends with `QMTL_TIMEOUT` naming the call and the range; rows a fetch
 * returns outside the asked window are dropped, warning `backfill.outside_range` once; a failing
 * `fetch` is retried with backoff up to the run's `maxRetries` (the start option
 * `historyMaxRetries`, default 3) and then ends the feed through `onError`
 * (`QMTL_HISTORY_UNAVAILABLE`). A failing `coverage` ends it at once, as it fails a backtest.
 *
 * @example
 * const feed = new ReplayFeed({ provider: historyProvider, paceMs: 10 });
 * const price = new StreamInput({ tags: ['BTC'], interval: '1m', period: 20, historyProvider, liveFeed: feed });
 */
export class ReplayFeed implements LiveFeed {
  readonly #provider: HistoryProvider;
  readonly #paceMs: number;
  readonly #until: number | null;
  readonly #windowBars: number;
  /** Streams already warned about rows that could not be delivered. */
  readonly #warned = new Set<string>();

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: ReplayFeedOptions) {
    validateOptions('ReplayFeed', options, CHECKS, ['provider']);
    this.#provider = options.provider;
    this.#paceMs = options.paceMs ?? 0;
    this.#until = options.until ?? null;
    this.#windowBars = options.windowBars ?? 4096;
  }

  /**
   * Starts playing from `options.from`; the rows are delivered in the background.
   * @throws QmtlError `QMTL_INVALID_ARGUMENT` for invalid start options (`historyTimeoutMs` included).
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- async, so bad start options reject rather than throw
  async start(options: LiveFeedStart): Promise<LiveFeedHandle> {
    const run = new FeedRun('ReplayFeed', options);
    const engine = new BackfillEngine(this.#provider, {
      maxRetries: options.historyMaxRetries ?? DEFAULT_HISTORY_MAX_RETRIES,
      timeoutMs: options.historyTimeoutMs ?? DEFAULT_HISTORY_TIMEOUT_MS,
    });
    void this.#play(run, options.key, engine).catch((error: unknown) => run.fail(asError(error)));
    return run.handle();
  }

  async #play(run: FeedRun, key: StreamKey, engine: BackfillEngine): Promise<void> {
    const label = `the ReplayFeed of node ${quote(key.nodeId)} (interval ${key.interval})`;
    const until = this.#until ?? (await this.#coverageEnd(engine, key, run.signal, label));
    let cursor = run.next;
    let first = true;
    let notDelivered = 0;
    while (until !== null && cursor <= until && !run.ended) {
      const windowEnd = Math.min(until + 1, cursor + this.#windowBars * key.interval);
      const rows = inTimestampOrder(await this.#fetch(engine, cursor, windowEnd, key, run.signal, label));
      let stale = 0;
      for (const row of rows) {
        if (isStale(row, run.last)) {
          stale += 1;
          continue;
        }
        if (!first && this.#paceMs > 0 && !(await run.pause(this.#paceMs))) return;
        if (!(await run.deliver(row))) return;
        first = false;
      }
      if (stale > 0) this.#warnNotDelivered(run, key, cursor, windowEnd, stale);
      notDelivered += stale;
      cursor = windowEnd;
    }
    run.log('debug', { until, next: run.next, notDelivered }, 'ReplayFeed played its last row');
    run.finish();
  }

  /** Warns, once per stream, that `count` rows of `[start, end)` were not delivered. */
  #warnNotDelivered(run: FeedRun, key: StreamKey, start: number, end: number, count: number): void {
    const stream = `${key.nodeId}\u0000${key.interval}`;
    if (this.#warned.has(stream)) return;
    this.#warned.add(stream);
    run.log(
      'warn',
      { start, end, dropped: count },
      'replay.not_delivered: the provider returned rows with a ts already played (a repeated ts); a feed plays one row per ts, so they were dropped, while a backtest applies them as corrections (logged once per stream)',
    );
  }

  async #coverageEnd(
    engine: BackfillEngine,
    key: StreamKey,
    signal: AbortSignal,
    label: string,
  ): Promise<number | null> {
    try {
      const ranges = await engine.deadline(this.#provider.coverage(key), signal, () =>
        engine.timeout(label, 'coverage', ''),
      );
      return ranges.at(-1)?.[1] ?? null;
    } catch (error) {
      if (signal.aborted || isTimeout(error)) throw error;
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `ReplayFeed could not read the coverage of stream "${key.nodeId}": ${asError(error).message}`,
        { cause: error },
      );
    }
  }

  /** Rows with `start <= ts < end`, fetched like a backtest's window (timeout, range filter). */
  async #fetch(
    engine: BackfillEngine,
    start: number,
    end: number,
    key: StreamKey,
    signal: AbortSignal,
    label: string,
  ): Promise<readonly HistoryRow[]> {
    try {
      return await engine.fetchRows(key, start, end, { signal, label });
    } catch (error) {
      if (signal.aborted || isTimeout(error)) throw error;
      // The engine's QMTL_BACKFILL_FAILED wraps the provider's last error, after every try failed.
      const failed = error instanceof QmtlError && error.code === ErrorCode.BackfillFailed;
      const cause = failed ? error.cause : error;
      const tries = engine.maxRetries + 1;
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `ReplayFeed could not fetch [${start}, ${end}) of stream "${key.nodeId}" after ${tries} attempt${tries === 1 ? '' : 's'}: ${asError(cause).message}`,
        { cause },
      );
    }
  }
}

/** A row with a numeric `ts` the feed run would drop: not newer than the last delivered. */
function isStale(row: HistoryRow, last: number | null): boolean {
  const ts: unknown = row?.ts;
  return last !== null && typeof ts === 'number' && ts <= last;
}

function isTimeout(error: unknown): boolean {
  return error instanceof QmtlError && error.code === ErrorCode.Timeout;
}
