/** Buckets held before the first look at the inputs' floor; it doubles with what is kept. */
const FIRST_PRUNE_AT = 1024;
/** Most buckets ever held, whatever the inputs do. */
const MAX_HELD = 65_536;

/**
 * Counts the distinct bucket timestamps of a live session: its `ticks`, which mean what they mean
 * in a backtest (SPEC §3.5) although live inputs are not merged. A bucket counts once however many
 * streams, topic messages or corrections deliver it, and whatever order they arrive in (a stream
 * trailing another delivers buckets the others passed).
 *
 * Memory stays bounded by how far apart the inputs are, not by how long the run lasts: once many
 * buckets are held, those before `floor()` (the oldest bucket any input can still deliver) are
 * forgotten, and a bucket before that floor is taken as counted. An input that stands still (a
 * silent topic) holds that floor back, so at most {@link MAX_HELD} buckets are held: past that the
 * older half is forgotten too, and such an input's late buckets from that half are not counted.
 *
 * @example
 * const ticks = new DistinctBuckets(() => oldestBucketAnyInputCanStillDeliver());
 * if (ticks.add(bucket)) counters.ticks++;
 */
export class DistinctBuckets {
  readonly #floor: () => number;
  readonly #held = new Set<number>();
  #forgottenBefore = -Infinity;
  #pruneAt = FIRST_PRUNE_AT;
  #count = 0;

  /** @param floor the oldest bucket any input of the session can still deliver (Infinity: none). */
  constructor(floor: () => number) {
    this.#floor = floor;
  }

  /** Distinct buckets counted so far. */
  get count(): number {
    return this.#count;
  }

  /** Buckets held in memory (a test hook for the bound). */
  get held(): number {
    return this.#held.size;
  }

  /** Counts `bucket` unless it was counted before; true when it is new. */
  add(bucket: number): boolean {
    if (bucket < this.#forgottenBefore || this.#held.has(bucket)) return false;
    this.#held.add(bucket);
    this.#count += 1;
    if (this.#held.size >= this.#pruneAt) this.#prune();
    return true;
  }

  #prune(): void {
    let floor = this.#floor();
    if (this.#held.size > MAX_HELD) {
      const sorted = Float64Array.from(this.#held).sort();
      floor = Math.max(floor, sorted[sorted.length - MAX_HELD / 2]!);
    }
    if (floor > this.#forgottenBefore) {
      this.#forgottenBefore = floor;
      for (const bucket of this.#held) if (bucket < floor) this.#held.delete(bucket);
    }
    // An input that stands still holds the floor back: look again once twice as many are held.
    this.#pruneAt = Math.min(MAX_HELD + 1, Math.max(FIRST_PRUNE_AT, 2 * this.#held.size));
  }
}
