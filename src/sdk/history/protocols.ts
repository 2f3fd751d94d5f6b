/** One row of history: a bucketed epoch-seconds `ts` plus any fields (`open`, `close`, `value`, …). */
export interface HistoryRow {
  readonly ts: number;
  readonly [field: string]: unknown;
}

/** Which stream a history call is about. */
export interface StreamKey {
  readonly nodeId: string;
  /** Bar interval in seconds. */
  readonly interval: number;
}

/** An inclusive, contiguous range of bucket timestamps `[start, end]` that a provider holds. */
export type CoverageRange = readonly [start: number, end: number];

/** Fetches rows from a remote source (an exchange, a file, a generator). SPEC §3.7. */
export interface DataFetcher {
  /** Rows with `start <= ts < end`, ascending by `ts`. */
  fetch(start: number, end: number, key: StreamKey): Promise<readonly HistoryRow[]>;
}

/**
 * Stores and serves history for a StreamInput (SPEC §3.7). Any object with these methods works.
 * Providers may implement `bindStream(stream)` to learn the node id of the stream they serve.
 */
export interface HistoryProvider {
  /** Rows with `start <= ts < end` (half-open), ascending by `ts`. */
  fetch(start: number, end: number, key: StreamKey): Promise<readonly HistoryRow[]>;
  /** Inclusive contiguous ranges held, ascending. */
  coverage(key: StreamKey): Promise<readonly CoverageRange[]>;
  /** Makes the provider hold `[start, end]` (e.g. by asking a DataFetcher); may leave gaps it cannot fill. */
  fillMissing(start: number, end: number, key: StreamKey): Promise<void>;
  /** Optional: called once by the StreamInput that owns this provider. */
  bindStream?(stream: { readonly nodeId: string; readonly interval: number | null }): void;
  /** Optional: a stable id of the data source; part of the owning StreamInput's NodeID. */
  readonly sourceId?: string;
}

/** Persists the bars a StreamInput emits (SPEC §3.7). */
export interface EventRecorder {
  /** Stores one emitted bar: `timestamp` is its bucket in epoch seconds, `payload` its value. */
  persist(nodeId: string, interval: number, timestamp: number, payload: unknown): Promise<void>;
  /** Optional: called once by the StreamInput that owns this recorder. */
  bindStream?(stream: { readonly nodeId: string; readonly interval: number | null }): void;
  /**
   * Optional, for recorders that buffer: stores what `persist` accepted, rejecting when some of
   * it could not be stored. A dry-run or live run calls it when it ends.
   */
  flush?(): Promise<void>;
}
