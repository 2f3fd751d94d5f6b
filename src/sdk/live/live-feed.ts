import type { HistoryRow, StreamKey } from '../history/protocols.js';

/** What a {@link LiveFeed} is started with. */
export interface LiveFeedStart {
  /** The stream fed: its node id and bar interval. */
  readonly key: StreamKey;
  /**
   * The first bucket wanted (epoch seconds, a multiple of the interval). A feed that can replay
   * (a generator, a recorded file, a topic) starts exactly there; a real-time feed starts with the
   * first bar it sees at or after it and never delivers an older one.
   */
  readonly from: number;
  /**
   * Called once per bar, in ascending `ts` order. The feed waits for the returned promise before
   * delivering the next bar, so a slow consumer applies back-pressure instead of piling bars up.
   */
  readonly onRow: (row: HistoryRow) => void | Promise<void>;
  /** Called when the feed fails for good (after its own retries); the run stops with this error. */
  readonly onError: (error: Error) => void;
  /**
   * How long one call of a feed to a HistoryProvider or DataFetcher (ReplayFeed's `fetch` and
   * `coverage`, PollingFeed's `fetch`) may take, in ms: the run's `historyTimeoutMs`, which bounds
   * its warm-up and backtests alike. Other feeds ignore it. Default 300 s (`DEFAULT_HISTORY_TIMEOUT_MS`).
   */
  readonly historyTimeoutMs?: number;
  /**
   * How many times a feed retries, with backoff, a HistoryProvider `fetch` that fails (ReplayFeed):
   * the run's `maxRetries`, which its warm-up and backtests use alike. A timed-out call is not
   * retried. Feeds that read no provider ignore it. Default 3 (`DEFAULT_HISTORY_MAX_RETRIES`).
   */
  readonly historyMaxRetries?: number;
}

/** A running feed. */
export interface LiveFeedHandle {
  /** Resolves when the feed has delivered its last bar (a finite feed) or was stopped. */
  readonly done: Promise<void>;
  /** Stops delivering; resolves once no `onRow` call is running or will start. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Where a StreamInput's bars come from in dry-run and live runs (SPEC §3.5): a websocket or
 * HTTP-polling market-data feed, a topic, or a generator. Any object with `start` works.
 */
export interface LiveFeed {
  start(options: LiveFeedStart): Promise<LiveFeedHandle>;
}
