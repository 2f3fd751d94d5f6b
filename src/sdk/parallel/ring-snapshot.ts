import type { NodeCache } from '../cache/node-cache.js';
import type { SeriesRing } from '../cache/series-ring.js';

/**
 * A copy of one (upstream, interval) ring of a node cache, oldest → newest, with the flags its
 * windows expose: what a worker thread needs to rebuild the window a compute function reads.
 */
export interface RingSnapshot {
  readonly upstreamId: string;
  readonly interval: number;
  readonly times: Float64Array;
  /** The values of a numeric ring, or null. */
  readonly numbers: Float64Array | null;
  /** The values of a ring that holds other values, or null. */
  readonly objects: unknown[] | null;
  readonly gap: boolean;
  readonly expectedBucket: number;
  readonly emptyThrough: number;
  readonly appended: number;
}

/** Copies every ring of `cache`; the typed arrays are fresh, so they can be transferred. */
export function snapshotCache(cache: NodeCache): RingSnapshot[] {
  return cache
    .keys()
    .map(({ upstreamId, interval }) => snapshotRing(upstreamId, cache.ring(upstreamId, interval)));
}

/** Copies one ring's contents and flags. */
export function snapshotRing(upstreamId: string, ring: SeriesRing): RingSnapshot {
  const start = ring.start;
  const end = start + ring.count;
  return {
    upstreamId,
    interval: ring.interval,
    times: ring.times.slice(start, end),
    numbers: ring.numbers === null ? null : ring.numbers.slice(start, end),
    objects: ring.numbers === null ? ring.objects!.slice(start, end) : null,
    gap: ring.gap,
    expectedBucket: ring.expectedBucket,
    emptyThrough: ring.emptyThrough,
    appended: ring.appended,
  };
}

/**
 * Makes `ring` hold exactly the snapshot: its bars in slots 0 … count-1 (mirrored, as the ring
 * keeps them) and the same flags, so a window over it reads what the original's window read.
 */
export function restoreRing(ring: SeriesRing, snapshot: RingSnapshot): void {
  const count = snapshot.times.length;
  const capacity = ring.capacity;
  ring.times.set(snapshot.times, 0);
  ring.times.set(snapshot.times, capacity);
  if (snapshot.numbers !== null) {
    const numbers = ring.numbers ?? new Float64Array(2 * capacity);
    numbers.set(snapshot.numbers, 0);
    numbers.set(snapshot.numbers, capacity);
    ring.numbers = numbers;
    ring.objects = null;
  } else {
    const objects: unknown[] = new Array(2 * capacity);
    for (let k = 0; k < count; k++) objects[k] = objects[k + capacity] = snapshot.objects![k];
    ring.objects = objects;
    ring.numbers = null;
  }
  ring.count = count;
  ring.newest = count - 1;
  ring.gap = snapshot.gap;
  ring.expectedBucket = snapshot.expectedBucket;
  ring.emptyThrough = snapshot.emptyThrough;
  ring.appended = snapshot.appended;
}
