import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { IntervalLike } from '../common/interval.js';
import type { EventRecorder, HistoryProvider } from './history/protocols.js';
import type { LiveFeed } from './live/live-feed.js';
import { Node } from './node.js';
import { rejectUnknownKeys, stringList } from './node-options.js';

/** Options of a {@link StreamInput}. */
export interface StreamInputOptions {
  /** Tags that identify the stream (e.g. `['BTC', 'price']`); part of the NodeID. */
  readonly tags?: readonly string[];
  readonly interval?: IntervalLike;
  /** Bars of history needed to warm up downstream nodes in live modes. */
  readonly period?: number;
  readonly name?: string;
  /** Where history comes from; fixed at construction. */
  readonly historyProvider?: HistoryProvider | null;
  /** Where emitted bars are persisted in live modes; fixed at construction. */
  readonly eventRecorder?: EventRecorder | null;
  /** Id of the data source (default: the provider's `sourceId`); part of the NodeID. */
  readonly source?: string;
  /** Where bars come from in dry-run and live runs, after the warm-up from history. Not part of the NodeID. */
  readonly liveFeed?: LiveFeed | null;
}

const STREAM_INPUT_KEYS = [
  'tags',
  'interval',
  'period',
  'name',
  'historyProvider',
  'eventRecorder',
  'source',
  'liveFeed',
] as const;

/**
 * A source of market data (SPEC §3.1). Its identity is its tags, interval and data-source id, so
 * every strategy that declares the same stream shares one node. In a backtest the Runner replays
 * its `historyProvider`; rows (`{ts, open, close, …}`) are emitted as the node's output.
 *
 * @example
 * const price = new StreamInput({ tags: ['BTC', 'ohlcv'], interval: '1m', period: 30, historyProvider: provider });
 */
export class StreamInput extends Node {
  static override readonly nodeType: string = 'StreamInput';

  readonly #historyProvider: HistoryProvider | null;
  readonly #eventRecorder: EventRecorder | null;
  readonly #source: string | null;
  readonly #liveFeed: LiveFeed | null;

  constructor(options: StreamInputOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new QmtlError(
        ErrorCode.InvalidNode,
        `StreamInput options must be an object, got ${quote(options)}`,
      );
    }
    const what = `StreamInput${typeof options.name === 'string' ? ` ${quote(options.name)}` : ''}`;
    rejectUnknownKeys(options, STREAM_INPUT_KEYS, what);
    super({
      name: options.name ?? 'stream_input',
      ...(options.interval !== undefined && { interval: options.interval }),
      ...(options.period !== undefined && { period: options.period }),
      tags: stringList(options.tags ?? [], 'tags', what),
    });
    this.#historyProvider = checkProvider(options.historyProvider ?? null, what);
    this.#eventRecorder = checkRecorder(options.eventRecorder ?? null, what);
    const source = options.source ?? this.#historyProvider?.sourceId ?? null;
    if (source !== null && typeof source !== 'string') {
      throw new QmtlError(ErrorCode.InvalidNode, `${what}: source must be a string, got ${quote(source)}`);
    }
    this.#source = source;
    this.#liveFeed = checkFeed(options.liveFeed ?? null, what);
    this.#historyProvider?.bindStream?.(this);
    this.#eventRecorder?.bindStream?.(this);
  }

  /** Where history comes from (read-only). */
  get historyProvider(): HistoryProvider | null {
    return this.#historyProvider;
  }

  /** Where emitted bars are recorded (read-only). */
  get eventRecorder(): EventRecorder | null {
    return this.#eventRecorder;
  }

  /** Where bars come from after the warm-up in dry-run and live runs (read-only), or null. */
  get liveFeed(): LiveFeed | null {
    return this.#liveFeed;
  }

  /** The data-source id in the identity, or null. */
  get source(): string | null {
    return this.#source;
  }

  override identityConfig(): Record<string, unknown> {
    return { interval: this.interval, tags: [...this.tags].sort(), source: this.#source };
  }

  protected override get tagsAreIdentity(): boolean {
    return true;
  }
}

function checkProvider(provider: HistoryProvider | null, what: string): HistoryProvider | null {
  if (provider === null) return null;
  const missing = (['fetch', 'coverage', 'fillMissing'] as const).filter(
    (m) => typeof (provider as unknown as Record<string, unknown>)[m] !== 'function',
  );
  if (typeof provider !== 'object' || missing.length > 0) {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: historyProvider must have fetch, coverage and fillMissing methods (missing: ${missing.join(', ')})`,
    );
  }
  return provider;
}

function checkRecorder(recorder: EventRecorder | null, what: string): EventRecorder | null {
  if (recorder === null) return null;
  if (typeof recorder !== 'object' || typeof recorder.persist !== 'function') {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: eventRecorder must have a persist method, got ${quote(recorder)}`,
    );
  }
  return recorder;
}

function checkFeed(feed: LiveFeed | null, what: string): LiveFeed | null {
  if (feed === null) return null;
  if (typeof feed !== 'object' || typeof feed.start !== 'function') {
    throw new QmtlError(
      ErrorCode.InvalidNode,
      `${what}: liveFeed must have a start method, got ${quote(feed)}`,
    );
  }
  return feed;
}
