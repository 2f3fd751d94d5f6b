import { withDeadline } from '../../../common/deadline.js';
import { ErrorCode, QmtlError, quote } from '../../../common/errors.js';
import { backoffDelay } from '../../../common/retry.js';
import { DEFAULT_HISTORY_TIMEOUT_MS } from '../../history/backfill-engine.js';
import type { DataFetcher, HistoryRow, StreamKey } from '../../history/protocols.js';
import type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';
import { asError, FeedRun } from './feed-run.js';
import {
  aFunction,
  backoffCheck,
  objectWith,
  positiveInteger,
  positiveNumber,
  validateOptions,
} from './feed-options.js';

/** Options of a {@link PollingFeed}. */
export interface PollingFeedOptions {
  /** Where the bars come from: an exchange's REST API, a file, … */
  readonly fetcher: DataFetcher;
  /** Wait between two polls, in ms. */
  readonly pollMs: number;
  /** Consecutive failed fetches after which the feed gives up through `onError`. Default 5. */
  readonly maxFailures?: number;
  /** Wait before retrying a failed fetch: `initial` ms, doubling up to `max`. Default 1,000 → 60,000. */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /** The current time in epoch seconds. Default the system clock; injectable for tests. */
  readonly now?: () => number;
}

const CHECKS = {
  fetcher: objectWith('fetch'),
  pollMs: positiveNumber,
  maxFailures: positiveInteger,
  backoffMs: backoffCheck('initial', 'max'),
  now: aFunction,
};

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * A feed that polls a {@link DataFetcher} for new bars: every `pollMs` it asks for the completed
 * buckets after the last one delivered, i.e. `[next, now − now % interval)` — the bar still forming
 * is left for a later poll, so each bar is delivered once and complete. Rows are sorted and
 * deduplicated (an overlapping answer is harmless). A failing fetch, or one that does not answer
 * within the run's `historyTimeoutMs` (default 300 s), is retried with exponential backoff; after
 * `maxFailures` failures in a row the feed ends through `onError` (`QMTL_UNAVAILABLE`), so a hung
 * request cannot leave the stream silent for good. It runs until stopped.
 *
 * @example
 * const feed = new PollingFeed({ fetcher: exchangeFetcher, pollMs: 5_000 });
 * const price = new StreamInput({ tags: ['BTC'], interval: '1m', period: 20, historyProvider, liveFeed: feed });
 */
export class PollingFeed implements LiveFeed {
  readonly #fetcher: DataFetcher;
  readonly #pollMs: number;
  readonly #maxFailures: number;
  readonly #backoff: { readonly initial: number; readonly max: number };
  readonly #now: () => number;

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: PollingFeedOptions) {
    validateOptions('PollingFeed', options, CHECKS, ['fetcher', 'pollMs']);
    this.#fetcher = options.fetcher;
    this.#pollMs = options.pollMs;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#backoff = options.backoffMs ?? { initial: 1000, max: 60_000 };
    this.#now = options.now ?? systemClock;
  }

  /** Starts polling at once; the rows are delivered in the background until `stop()`. */
  // eslint-disable-next-line @typescript-eslint/require-await -- async, so bad start options reject rather than throw
  async start(options: LiveFeedStart): Promise<LiveFeedHandle> {
    const run = new FeedRun('PollingFeed', options);
    const timeoutMs = options.historyTimeoutMs ?? DEFAULT_HISTORY_TIMEOUT_MS;
    void this.#poll(run, options.key, timeoutMs).catch((error: unknown) => run.fail(asError(error)));
    return run.handle();
  }

  async #poll(run: FeedRun, key: StreamKey, timeoutMs: number): Promise<void> {
    let failures = 0;
    while (!run.ended) {
      const now = this.#now();
      if (!Number.isFinite(now))
        return run.fail(
          new QmtlError(
            ErrorCode.InvalidArgument,
            `PollingFeed now() must return epoch seconds, got ${quote(now)}`,
          ),
        );
      const start = run.next;
      const end = now - (now % key.interval);
      let waitMs = this.#pollMs;
      if (end > start) {
        const rows = await this.#fetch(start, end, key, run, timeoutMs).catch((error: unknown) =>
          asError(error),
        );
        if (rows instanceof Error) {
          failures += 1;
          if (failures >= this.#maxFailures) return run.fail(giveUp(key, start, end, failures, rows));
          waitMs = backoffDelay(failures, {
            baseDelayMs: this.#backoff.initial,
            maxDelayMs: this.#backoff.max,
            jitter: false,
          });
          run.log('warn', { err: rows, start, end, failures, waitMs }, 'PollingFeed fetch failed; retrying');
        } else {
          failures = 0;
          for (const row of rows) if (row.ts < end && !(await run.deliver(row))) return;
        }
      }
      if (!(await run.pause(waitMs))) return;
    }
  }

  /**
   * The fetcher's rows, ascending (a fetcher that answers out of order is tolerated). Rejects when
   * the fetch has not answered within `timeoutMs`, or the run ended first.
   */
  async #fetch(
    start: number,
    end: number,
    key: StreamKey,
    run: FeedRun,
    timeoutMs: number,
  ): Promise<HistoryRow[]> {
    const timeout = (): QmtlError =>
      new QmtlError(
        ErrorCode.Timeout,
        `fetch of [${start}, ${end}) did not answer within ${timeoutMs} ms (historyTimeoutMs)`,
      );
    const rows = await withDeadline(this.#fetcher.fetch(start, end, key), timeoutMs, timeout, run.signal);
    return [...rows].sort((a, b) => a.ts - b.ts);
  }
}

function giveUp(key: StreamKey, start: number, end: number, failures: number, last: Error): QmtlError {
  return new QmtlError(
    ErrorCode.Unavailable,
    `PollingFeed gave up on stream "${key.nodeId}" after ${failures} consecutive failed fetches of [${start}, ${end}): ${last.message}`,
    { cause: last },
  );
}
