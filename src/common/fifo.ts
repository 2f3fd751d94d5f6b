/**
 * A first-in first-out list whose removals from the front take amortised constant time:
 * `Array.prototype.shift` moves every remaining element, so draining a long array with it is
 * quadratic. Removed items are cleared and the array is compacted once they are most of it.
 *
 * @example
 * const fifo = new Fifo<string>();
 * fifo.push('a'); fifo.push('b');
 * fifo.first(); // 'a'
 * fifo.drop(1); // 1; fifo.first() is now 'b'
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #start = 0;

  /** Items held. */
  get length(): number {
    return this.#items.length - this.#start;
  }

  /** The oldest item, or undefined when empty. */
  first(): T | undefined {
    return this.#items[this.#start];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Up to `count` of the oldest items (all when omitted), which stay held. */
  peek(count = this.length): T[] {
    return this.#items.slice(this.#start, this.#start + count) as T[];
  }

  /** Removes up to `count` of the oldest items; returns how many it removed. */
  drop(count: number): number {
    const removed = Math.min(Math.max(0, count), this.length);
    this.#items.fill(undefined, this.#start, this.#start + removed);
    this.#start += removed;
    if (this.#start === this.#items.length) this.clear();
    else if (this.#start >= 1024 && this.#start * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#start);
      this.#start = 0;
    }
    return removed;
  }

  /** Removes every item. */
  clear(): void {
    this.#items = [];
    this.#start = 0;
  }
}
