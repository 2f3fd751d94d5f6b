/**
 * Runs async sections one at a time per key: a section holding keys `a` and `b` waits for every
 * earlier section holding `a` or `b`, while sections with no key in common run concurrently. A
 * section registers for all its keys at once, in call order, so two sections can never wait for
 * each other (no deadlock, whatever the key order).
 *
 * @example
 * const lock = new KeyedLock();
 * await lock.run(['topic:btc_EMA_abcdef'], async () => nameAndCreate());
 */
export class KeyedLock<K = string> {
  readonly #tails = new Map<K, Promise<void>>();

  /** Keys some section holds or waits for (for tests: 0 once everything finished). */
  get size(): number {
    return this.#tails.size;
  }

  async run<T>(keys: Iterable<K>, section: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const earlier = unique.flatMap((key) => this.#tails.get(key) ?? []);
    for (const key of unique) this.#tails.set(key, done);
    try {
      await Promise.all(earlier);
      return await section();
    } finally {
      release();
      for (const key of unique) if (this.#tails.get(key) === done) this.#tails.delete(key);
    }
  }
}
