import { tableFromArrays, type Table } from 'apache-arrow';
import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import type { SeriesRing } from './series-ring.js';

/**
 * A read-only window over one (upstream, interval) series of a node cache, oldest → newest
 * (SPEC §3.3). Reads go straight to the cache's ring: nothing is copied until you ask for
 * `values()`/`timestamps()`. The window object is frozen; assigning to it throws.
 */
export class SeriesWindow<T = unknown> implements Iterable<[timestamp: number, value: T]> {
  readonly #ring: SeriesRing;

  constructor(ring: SeriesRing) {
    this.#ring = ring;
    Object.freeze(this);
  }

  /** Number of bars held, at most the node's period. */
  get length(): number {
    return this.#ring.count;
  }

  /** Bar interval in seconds. */
  get interval(): number {
    return this.#ring.interval;
  }

  /** Bars ever stored in this series (late corrections excluded); grows by one per new bucket. */
  get appended(): number {
    return this.#ring.appended;
  }

  /** True when the newest bar did not follow the previous one by exactly one interval. */
  get hasGap(): boolean {
    return this.#ring.gap;
  }

  /** The value at position `k` from the oldest; negative `k` counts from the newest (-1 = newest). */
  at(k: number): T | undefined {
    const i = this.#index(k);
    return i < 0 ? undefined : (this.#ring.valueAt(i) as T);
  }

  /** The bucket timestamp at position `k` (same indexing as {@link at}). */
  timeAt(k: number): number | undefined {
    const i = this.#index(k);
    return i < 0 ? undefined : this.#ring.timeAt(i);
  }

  /** The newest value, or null when empty. */
  latest(): T | null {
    return this.#ring.latest() as T | null;
  }

  /** The newest bucket timestamp, or null when empty. */
  latestTime(): number | null {
    return this.#ring.count === 0 ? null : this.#ring.lastBucket;
  }

  /** A copy of the values, oldest → newest (a `Float64Array` for numeric series). */
  values(): T extends number ? Float64Array : T[] {
    const ring = this.#ring;
    const start = ring.start;
    const result =
      ring.numbers !== null
        ? ring.numbers.slice(start, start + ring.count)
        : ring.objects!.slice(start, start + ring.count);
    return result as T extends number ? Float64Array : T[];
  }

  /** A copy of the bucket timestamps, oldest → newest. */
  timestamps(): Float64Array {
    const start = this.#ring.start;
    return this.#ring.times.slice(start, start + this.#ring.count);
  }

  /** The values of one field of record payloads (`window.field('close')`), oldest → newest. */
  field(name: string): unknown[] {
    const out: unknown[] = new Array(this.length);
    for (let k = 0; k < out.length; k++)
      out[k] = (this.#ring.valueAt(k) as Record<string, unknown> | null)?.[name];
    return out;
  }

  *[Symbol.iterator](): Iterator<[timestamp: number, value: T]> {
    const ring = this.#ring;
    for (let k = 0; k < ring.count; k++) yield [ring.timeAt(k), ring.valueAt(k) as T];
  }

  /**
   * An Apache Arrow table with columns `t` (bucket timestamp, float64 epoch seconds) and `v`
   * (float64), copied from the ring so the table stays valid after the next bar. Numeric series only.
   */
  toArrow(): Table {
    const ring = this.#ring;
    if (ring.numbers === null) {
      throw new QmtlError(
        ErrorCode.NotSupported,
        `toArrow() needs a numeric series, but this one holds ${quote(ring.latest())}`,
      );
    }
    const start = ring.start;
    return tableFromArrays({
      t: ring.times.slice(start, start + ring.count),
      v: ring.numbers.slice(start, start + ring.count),
    });
  }

  #index(k: number): number {
    const n = this.#ring.count;
    const i = k < 0 ? n + k : k;
    return i >= 0 && i < n && i === Math.floor(i) ? i : -1;
  }
}
