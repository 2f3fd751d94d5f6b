import { Fifo } from '../common/fifo.js';

/**
 * Messages a subscription fetched from several topics, handed out in bucket-timestamp order
 * across the topics. A consumer reading two topics with a backlog (a stream and an average of it,
 * say) would otherwise get one topic's batch before the other's, and a node reading both would
 * meet each bucket of one with a later bucket of the other. A topic whose last fetch was full
 * may hold more: nothing later than its fetched messages is handed out until it is fetched again.
 *
 * @example
 * const backlog = new BucketOrderedBacklog<string>();
 * backlog.add('a', [{ entry: 'a1', timestamp: 60 }], true);
 * backlog.add('b', [{ entry: 'b0', timestamp: 0 }], false);
 * backlog.next(); // { key: 'b', entry: 'b0' }; after shift('b'), 'a1'; then null: fetch 'a' again
 */
export class BucketOrderedBacklog<E> {
  readonly #queues = new Map<string, Fifo<{ entry: E; timestamp: number }>>();
  /** Keys whose last fetch was full: they may hold more than what is buffered. */
  readonly #more = new Set<string>();
  #size = 0;

  /**
   * Appends a fetch's entries of `key`, oldest first; `full`: the fetch returned as many as it
   * asked for (a caller that knows otherwise whether a key may hold more passes false).
   */
  add(key: string, entries: readonly { entry: E; timestamp: number }[], full = false): void {
    let queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, (queue = new Fifo()));
    for (const entry of entries) queue.push(entry);
    this.#size += entries.length;
    if (full) this.#more.add(key);
    else this.#more.delete(key);
  }

  /**
   * The entry with the smallest timestamp (the first key given wins a tie), or null when nothing
   * is buffered or a key that may hold more has nothing buffered (fetch it first).
   */
  next(): { key: string; entry: E } | null {
    let bestKey: string | null = null;
    let best: { entry: E; timestamp: number } | undefined;
    for (const [key, queue] of this.#queues) {
      const head = queue.first();
      if (head === undefined) {
        if (this.#more.has(key)) return null;
        continue;
      }
      if (best === undefined || head.timestamp < best.timestamp) {
        bestKey = key;
        best = head;
      }
    }
    return bestKey === null || best === undefined ? null : { key: bestKey, entry: best.entry };
  }

  /** Removes the head of `key` (after {@link next} handed it out). */
  shift(key: string): void {
    this.#size -= this.#queues.get(key)?.drop(1) ?? 0;
  }

  /** How many entries of `key` are buffered. */
  count(key: string): number {
    return this.#queues.get(key)?.length ?? 0;
  }

  /** True when nothing is buffered. */
  get empty(): boolean {
    return this.#size === 0;
  }

  /** How many entries are buffered, over all keys. */
  get size(): number {
    return this.#size;
  }

  /** The buffered entries of `key`, oldest first. */
  buffered(key: string): E[] {
    return (this.#queues.get(key)?.peek() ?? []).map((item) => item.entry);
  }

  /** The keys that have entries buffered. */
  *keys(): Generator<string> {
    for (const [key, queue] of this.#queues) if (queue.length > 0) yield key;
  }
}
