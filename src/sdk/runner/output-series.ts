/**
 * The [t, v] series a node emitted during a run, stored columnar: timestamps in a growable
 * `Float64Array`, numeric values too (other values in an array). A re-emission for the same bucket
 * (a late correction) replaces the last entry, so timestamps are strictly increasing. With a
 * `limit`, only (at least) the newest `limit` entries are kept, so a long live run's memory stays
 * bounded.
 */
export class OutputSeries<T = unknown> implements Iterable<[timestamp: number, value: T]> {
  #times = new Float64Array(16_384);
  #numbers: Float64Array | null = new Float64Array(16_384);
  #objects: unknown[] | null = null;
  #length = 0;
  readonly #limit: number;
  #dropped = 0;

  /** @param limit how many of the newest entries are kept at least (default: all). */
  constructor(limit = Infinity) {
    this.#limit = limit;
  }

  /** Entries dropped from the front to stay within the limit. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Number of entries. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends an output, or replaces the last one when `timestamp` equals the last timestamp; an
   * older timestamp is ignored (a bucket re-emitted by a take-over's warm-up), so the series stays
   * strictly increasing.
   */
  push(timestamp: number, value: unknown): void {
    let i = this.#length;
    if (i > 0) {
      const last = this.#times[i - 1]!;
      if (timestamp === last) i--;
      else if (timestamp < last) return;
      else if (i === this.#times.length) i = this.#makeRoom();
    } else if (i === this.#times.length) i = this.#makeRoom();
    this.#times[i] = timestamp;
    if (this.#numbers !== null && typeof value === 'number') this.#numbers[i] = value;
    else this.#storeObject(i, value);
    if (i === this.#length) this.#length++;
  }

  /** A copy of the timestamps. */
  timestamps(): Float64Array {
    return this.#times.slice(0, this.#length);
  }

  /** A copy of the values (`Float64Array` when every value was a number). */
  values(): T extends number ? Float64Array : T[] {
    const values =
      this.#numbers !== null ? this.#numbers.slice(0, this.#length) : this.#objects!.slice(0, this.#length);
    return values as T extends number ? Float64Array : T[];
  }

  /** The entry at `k` (negative counts from the end), or undefined. */
  at(k: number): [timestamp: number, value: T] | undefined {
    const i = k < 0 ? this.#length + k : k;
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
    return [this.#times[i]!, (this.#numbers !== null ? this.#numbers[i] : this.#objects![i]) as T];
  }

  /** All entries as `[t, v]` pairs. */
  toArray(): Array<[timestamp: number, value: T]> {
    return [...this];
  }

  *[Symbol.iterator](): Iterator<[timestamp: number, value: T]> {
    for (let i = 0; i < this.#length; i++) yield this.at(i)!;
  }

  /** Frees the slot after the last entry: drops the oldest entries beyond the limit, or grows. */
  #makeRoom(): number {
    const excess = this.#length - this.#limit;
    if (excess > 0 && excess * 2 >= this.#length) {
      this.#times.copyWithin(0, excess, this.#length);
      if (this.#numbers !== null) this.#numbers.copyWithin(0, excess, this.#length);
      else this.#objects!.splice(0, excess);
      this.#length -= excess;
      this.#dropped += excess;
    } else this.#grow();
    return this.#length;
  }

  #grow(): void {
    const times = new Float64Array(this.#times.length * 4);
    times.set(this.#times);
    this.#times = times;
    if (this.#numbers !== null) {
      const numbers = new Float64Array(times.length);
      numbers.set(this.#numbers);
      this.#numbers = numbers;
    }
  }

  #storeObject(i: number, value: unknown): void {
    if (this.#numbers !== null) {
      this.#objects = Array.from(this.#numbers.subarray(0, this.#length));
      this.#numbers = null;
    }
    this.#objects![i] = value;
  }
}
