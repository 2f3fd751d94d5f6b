import { ErrorCode, QmtlError } from '../../../common/errors.js';
import type { HistoryProvider, StreamKey } from '../../history/protocols.js';
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
 * over only after the previous `onRow` settled. Over a seeded generator it replays the same bars
 * from any bucket, which makes dry runs reproducible. The feed ends when the rows run out.
 *
 * A failing `provider.fetch` ends the feed through `onError` (`QMTL_HISTORY_UNAVAILABLE`).
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

  /** @throws QmtlError `QMTL_INVALID_ARGUMENT` listing every invalid option. */
  constructor(options: ReplayFeedOptions) {
    validateOptions('ReplayFeed', options, CHECKS, ['provider']);
    this.#provider = options.provider;
    this.#paceMs = options.paceMs ?? 0;
    this.#until = options.until ?? null;
    this.#windowBars = options.windowBars ?? 4096;
  }

  /** Starts playing from `options.from`; the rows are delivered in the background. */
  // eslint-disable-next-line @typescript-eslint/require-await -- async, so bad start options reject rather than throw
  async start(options: LiveFeedStart): Promise<LiveFeedHandle> {
    const run = new FeedRun('ReplayFeed', options);
    void this.#play(run, options.key).catch((error: unknown) => run.fail(asError(error)));
    return run.handle();
  }

  async #play(run: FeedRun, key: StreamKey): Promise<void> {
    const until = this.#until ?? (await this.#coverageEnd(key));
    let cursor = run.next;
    let first = true;
    while (until !== null && cursor <= until && !run.ended) {
      const windowEnd = Math.min(until + 1, cursor + this.#windowBars * key.interval);
      const rows = await this.#fetch(cursor, windowEnd, key);
      for (const row of rows) {
        if (row.ts < cursor || row.ts >= windowEnd) continue;
        if (!first && this.#paceMs > 0 && !(await run.pause(this.#paceMs))) return;
        if (!(await run.deliver(row))) return;
        first = false;
      }
      cursor = windowEnd;
    }
    run.log('debug', { until, next: run.next }, 'ReplayFeed played its last row');
    run.finish();
  }

  async #coverageEnd(key: StreamKey): Promise<number | null> {
    try {
      const ranges = await this.#provider.coverage(key);
      return ranges.at(-1)?.[1] ?? null;
    } catch (error) {
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `ReplayFeed could not read the coverage of stream "${key.nodeId}": ${asError(error).message}`,
        { cause: error },
      );
    }
  }

  async #fetch(start: number, end: number, key: StreamKey): ReturnType<HistoryProvider['fetch']> {
    try {
      return await this.#provider.fetch(start, end, key);
    } catch (error) {
      throw new QmtlError(
        ErrorCode.HistoryUnavailable,
        `ReplayFeed could not fetch [${start}, ${end}) of stream "${key.nodeId}": ${asError(error).message}`,
        { cause: error },
      );
    }
  }
}
