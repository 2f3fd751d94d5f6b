import { logger } from '../common/logger.js';

/** How a tag query matches queues: any of the tags, or all of them (SPEC §2.5). */
export type MatchMode = 'any' | 'all';

/** Receives the queue list of one watched query. */
export type QueueListener = (queues: readonly string[]) => void;

/** Tuning of a {@link QueueWatchHub}. */
export interface QueueWatchHubOptions {
  /** Latest lists kept for queries nobody watches; the least recently updated go first. Default 1024. */
  readonly maxIdleKeys?: number;
}

interface Latest {
  readonly queues: readonly string[];
  /** The sorted list as JSON: two lists with the same queues in another order are the same. */
  readonly signature: string;
}

/**
 * The watch key of a tag query: `"{sorted, deduplicated tags joined by ,}:{interval}:{match_mode}"`,
 * so `b,a` and `a,b` watch the same thing.
 * @example queueWatchKey(['b', 'a'], 60, 'any') // 'a,b:60:any'
 */
export function queueWatchKey(tags: readonly string[], interval: number, matchMode: MatchMode): string {
  return `${[...new Set(tags)].sort().join(',')}:${interval}:${matchMode}`;
}

/** One line of the `GET /queues/watch` NDJSON stream. */
export function ndjsonLine(queues: readonly string[]): string {
  return `${JSON.stringify({ queues })}\n`;
}

/**
 * Fans queue lists out to `GET /queues/watch` listeners (SPEC §2.5), keyed by
 * {@link queueWatchKey}. A new listener first gets the latest list of its key, if any; a broadcast
 * reaches listeners only when the list changed, compared as a set (order-insensitive). A key
 * nobody watches keeps only its latest list, and at most `maxIdleKeys` such keys are kept.
 * @example
 * const stop = hub.subscribe(['btc'], 60, 'any', (queues) => reply.raw.write(ndjsonLine(queues)));
 * hub.broadcast(['btc'], 60, 'any', ['q1']);
 */
export class QueueWatchHub {
  private readonly listeners = new Map<string, Set<QueueListener>>();
  /** Latest lists of keys with listeners. */
  private readonly watched = new Map<string, Latest>();
  /** Latest lists of keys without listeners, least recently updated or left first. */
  private readonly idle = new Map<string, Latest>();
  private readonly maxIdleKeys: number;

  constructor(options: QueueWatchHubOptions = {}) {
    this.maxIdleKeys = options.maxIdleKeys ?? 1024;
  }

  /** Listeners across every key. */
  get listenerCount(): number {
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** Keys with a cached list. */
  get cachedKeyCount(): number {
    return this.watched.size + this.idle.size;
  }

  /** The latest list broadcast for a query, or `null` if none was (or it was evicted). */
  latestQueues(tags: readonly string[], interval: number, matchMode: MatchMode): readonly string[] | null {
    return this.latestOf(queueWatchKey(tags, interval, matchMode))?.queues ?? null;
  }

  /**
   * Calls `listener` with every changed list of the query, starting now with the cached one if
   * there is one. Returns the function that stops it.
   */
  subscribe(
    tags: readonly string[],
    interval: number,
    matchMode: MatchMode,
    listener: QueueListener,
  ): () => void {
    const key = queueWatchKey(tags, interval, matchMode);
    let set = this.listeners.get(key);
    if (set === undefined) {
      this.listeners.set(key, (set = new Set()));
      this.move(key, this.idle, this.watched);
    }
    // A Set would ignore a second subscription of the same function; wrap so each one counts.
    const entry: QueueListener = (queues) => listener(queues);
    set.add(entry);
    const cached = this.watched.get(key);
    if (cached !== undefined) notify(entry, cached.queues, key);
    return () => {
      const current = this.listeners.get(key);
      if (current?.delete(entry) && current.size === 0) {
        this.listeners.delete(key);
        this.move(key, this.watched, this.idle);
        this.evictIdle();
      }
    };
  }

  /**
   * Records the query's list and sends it to the key's listeners if it differs (as a set) from the
   * previous one. Returns whether it changed.
   */
  broadcast(
    tags: readonly string[],
    interval: number,
    matchMode: MatchMode,
    queues: readonly string[],
  ): boolean {
    const key = queueWatchKey(tags, interval, matchMode);
    const signature = JSON.stringify([...queues].sort());
    if (this.latestOf(key)?.signature === signature) return false;
    const latest: Latest = { queues: Object.freeze([...queues]), signature };
    const listeners = this.listeners.get(key);
    if (listeners === undefined) {
      this.idle.delete(key);
      this.idle.set(key, latest);
      this.evictIdle();
      return true;
    }
    this.watched.set(key, latest);
    for (const listener of listeners) notify(listener, latest.queues, key);
    return true;
  }

  private latestOf(key: string): Latest | undefined {
    return this.watched.get(key) ?? this.idle.get(key);
  }

  private move(key: string, from: Map<string, Latest>, to: Map<string, Latest>): void {
    const latest = from.get(key);
    if (latest === undefined) return;
    from.delete(key);
    to.set(key, latest);
  }

  private evictIdle(): void {
    for (const key of this.idle.keys()) {
      if (this.idle.size <= this.maxIdleKeys) return;
      this.idle.delete(key);
    }
  }
}

function notify(listener: QueueListener, queues: readonly string[], key: string): void {
  try {
    listener(queues);
  } catch (error) {
    // One failing watcher (e.g. a closed response) must not stop the others.
    logger.error({ err: error, key }, 'queue watch listener failed');
  }
}
