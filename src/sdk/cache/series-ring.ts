/** What an append did to a ring (SPEC §3.2). */
export const AppendOutcome = {
  /** The next bucket after the previous one (or the first bucket). */
  Appended: 0,
  /** A new bucket that is not previous + interval: stored, and the gap flag is set. */
  Gap: 1,
  /** The same bucket as the newest: the newest slot is replaced (late correction). */
  Corrected: 2,
  /** An older bucket than the newest: rejected, nothing stored. */
  Rejected: 3,
} as const;
/** One of {@link AppendOutcome}. */
export type AppendOutcome = (typeof AppendOutcome)[keyof typeof AppendOutcome];

/**
 * A fixed-capacity ring of (bucket timestamp, value) slots: the storage of one (upstream,
 * interval) pair of a node cache. Numbers are stored columnar in a mirrored `Float64Array`
 * (every slot is written twice, at `i` and `i + capacity`), so the window oldest→newest is always
 * one contiguous range that can be handed out without copying. The first non-number value
 * switches the ring to a plain array of values.
 */
export class SeriesRing {
  readonly capacity: number;
  readonly interval: number;
  /** Mirrored bucket timestamps, length 2 × capacity. */
  readonly times: Float64Array;
  /** Mirrored numeric values, or null once a non-number was stored. */
  numbers: Float64Array | null;
  /** Values when not numeric, indexed like `times` (mirrored too). */
  objects: unknown[] | null = null;
  /** Number of filled slots, at most `capacity`. */
  count = 0;
  /** Slot index (0 … capacity-1) of the newest value; -1 when empty. */
  newest = -1;
  /** Set by the latest append when it opened a gap; cleared by a contiguous append. */
  gap = false;
  /** The newest bucket the upstream computed as empty (no output): not a missing bucket. */
  emptyThrough = -Infinity;
  /** When `gap` is set: the bucket that was expected instead. */
  expectedBucket = NaN;
  /** New buckets stored since creation (corrections excluded): lets readers tell what is new. */
  appended = 0;

  constructor(capacity: number, interval: number) {
    this.capacity = capacity;
    this.interval = interval;
    this.times = new Float64Array(2 * capacity);
    this.numbers = new Float64Array(2 * capacity);
  }

  /** Bucket timestamp of the newest value, or NaN when empty. */
  get lastBucket(): number {
    return this.newest < 0 ? NaN : this.times[this.newest]!;
  }

  /** Index into the mirrored arrays of the oldest value of the window. */
  get start(): number {
    return this.newest + this.capacity - this.count + 1;
  }

  /** Stores `value` at the already-bucketed timestamp `bucket` (SPEC §3.2 rules). */
  append(bucket: number, value: unknown): AppendOutcome {
    let outcome: AppendOutcome = AppendOutcome.Appended;
    let slot: number;
    if (this.newest < 0) {
      slot = 0;
      this.gap = false;
    } else {
      const last = this.times[this.newest]!;
      if (bucket === last) {
        this.write(this.newest, bucket, value);
        return AppendOutcome.Corrected;
      }
      if (bucket < last) return AppendOutcome.Rejected;
      // Buckets are aligned to the interval, so anything past the next one skipped a bucket.
      const expected = (last > this.emptyThrough ? last : this.emptyThrough) + this.interval;
      this.gap = bucket > expected;
      if (this.gap) {
        this.expectedBucket = expected;
        outcome = AppendOutcome.Gap;
      }
      slot = this.newest + 1 === this.capacity ? 0 : this.newest + 1;
    }
    this.write(slot, bucket, value);
    this.newest = slot;
    this.appended++;
    if (this.count < this.capacity) this.count++;
    return outcome;
  }

  /** Records that the upstream computed `bucket` and had no output, so the next bucket is not a gap. */
  markEmpty(bucket: number): void {
    if (bucket > this.emptyThrough) this.emptyThrough = bucket;
  }

  /** The value `k` slots from the oldest (0 = oldest); `k` must be in [0, count). */
  valueAt(k: number): unknown {
    const i = this.start + k;
    return this.numbers !== null ? this.numbers[i] : this.objects![i];
  }

  /** The timestamp `k` slots from the oldest. */
  timeAt(k: number): number {
    return this.times[this.start + k]!;
  }

  /** The newest value, or null when empty. */
  latest(): unknown {
    if (this.newest < 0) return null;
    return this.numbers !== null ? this.numbers[this.newest] : this.objects![this.newest];
  }

  /** Empties the ring and clears its flags. */
  clear(): void {
    this.count = 0;
    this.newest = -1;
    this.gap = false;
    this.emptyThrough = -Infinity;
    this.numbers = new Float64Array(2 * this.capacity);
    this.objects = null;
  }

  /** Bytes held by the ring's storage (typed arrays at their byte length, object slots at 8 bytes). */
  get residentBytes(): number {
    return (
      this.times.byteLength + (this.numbers?.byteLength ?? 0) + (this.objects ? this.objects.length * 8 : 0)
    );
  }

  private write(slot: number, bucket: number, value: unknown): void {
    const mirror = slot + this.capacity;
    this.times[slot] = bucket;
    this.times[mirror] = bucket;
    if (this.numbers !== null) {
      if (typeof value === 'number') {
        this.numbers[slot] = value;
        this.numbers[mirror] = value;
        return;
      }
      this.switchToObjects();
    }
    this.objects![slot] = value;
    this.objects![mirror] = value;
  }

  private switchToObjects(): void {
    this.objects = Array.from(this.numbers!);
    this.numbers = null;
  }
}
