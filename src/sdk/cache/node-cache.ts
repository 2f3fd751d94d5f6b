import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { bucketOf, parseInterval, parsePeriod } from '../../common/interval.js';
import { BackfillState } from './backfill-state.js';
import { SeriesRing, type AppendOutcome } from './series-ring.js';
import { SeriesWindow } from './series-window.js';

/** Identifies one series of a node cache: an upstream node id and an interval in seconds. */
export interface SeriesKey {
  readonly upstreamId: string;
  readonly interval: number;
}

/**
 * The per-node cache of SPEC §3.2, the 4-D model `C[u, i, p, f]`: one ring of `period` slots per
 * (upstream u, interval i), each slot a (bucket timestamp, value) pair. Nothing beyond `period`
 * bars is retained.
 */
export class NodeCache {
  readonly period: number;
  /** Ranges of history merged in by {@link backfillBulk}. */
  readonly backfillState = new BackfillState();
  readonly #rings = new Map<string, Map<number, SeriesRing>>();

  constructor(period: number) {
    this.period = parsePeriod(period, 'NodeCache period');
  }

  /** The ring of a series, created on first use. */
  ring(upstreamId: string, interval: number): SeriesRing {
    let byInterval = this.#rings.get(upstreamId);
    if (!byInterval) this.#rings.set(upstreamId, (byInterval = new Map<number, SeriesRing>()));
    let ring = byInterval.get(interval);
    if (!ring) byInterval.set(interval, (ring = new SeriesRing(this.period, parseInterval(interval))));
    return ring;
  }

  /** Buckets `timestamp` to the interval and stores the value (gap / correction / rejection rules of §3.2). */
  append(upstreamId: string, interval: number, timestamp: number, value: unknown): AppendOutcome {
    if (!Number.isFinite(timestamp)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `timestamp for upstream ${quote(upstreamId)} must be a finite number, got ${quote(timestamp)}`,
      );
    }
    return this.ring(upstreamId, interval).append(bucketOf(timestamp, interval), value);
  }

  /** A read-only window over the series, or null if nothing was ever stored for it. */
  window<T = unknown>(upstreamId: string, interval: number): SeriesWindow<T> | null {
    const ring = this.#rings.get(upstreamId)?.get(interval);
    return ring ? new SeriesWindow<T>(ring) : null;
  }

  /** True when every declared series holds `period` bars (SPEC §3.2 warm-up). */
  isReady(declared: readonly SeriesKey[]): boolean {
    return declared.every(
      (key) => (this.#rings.get(key.upstreamId)?.get(key.interval)?.count ?? 0) >= this.period,
    );
  }

  /** The newest (timestamp, value) of a series, or null. */
  latest(upstreamId: string, interval: number): [timestamp: number, value: unknown] | null {
    const ring = this.#rings.get(upstreamId)?.get(interval);
    return ring && ring.count > 0 ? [ring.lastBucket, ring.latest()] : null;
  }

  /** Whether the latest append of each series opened a gap. */
  missingFlags(): Map<string, Map<number, boolean>> {
    return this.#mapRings((ring) => ring.gap);
  }

  /** The newest bucket of each series. */
  lastTimestamps(): Map<string, Map<number, number | null>> {
    return this.#mapRings((ring) => (ring.count === 0 ? null : ring.lastBucket));
  }

  /** Every (upstream, interval) pair the cache holds. */
  keys(): SeriesKey[] {
    const keys: SeriesKey[] = [];
    for (const [upstreamId, byInterval] of this.#rings)
      for (const interval of byInterval.keys()) keys.push({ upstreamId, interval });
    return keys;
  }

  /** Removes a series and its backfill ranges. Idempotent. */
  drop(upstreamId: string, interval: number): void {
    const byInterval = this.#rings.get(upstreamId);
    byInterval?.delete(interval);
    if (byInterval?.size === 0) this.#rings.delete(upstreamId);
    this.backfillState.drop(upstreamId, interval);
  }

  /** Bytes held by all rings (`nodecache_resident_bytes`). */
  get residentBytes(): number {
    let bytes = 0;
    for (const byInterval of this.#rings.values())
      for (const ring of byInterval.values()) bytes += ring.residentBytes;
    return bytes;
  }

  /**
   * Merges history into a series (SPEC §3.2): timestamps are bucketed, contiguous runs are
   * recorded in {@link backfillState}, values already in the cache (live data) win on equal
   * buckets, and only the newest `period` bars are kept.
   */
  backfillBulk(upstreamId: string, interval: number, items: Iterable<readonly [number, unknown]>): void {
    const merged = new Map<number, unknown>();
    let runStart = NaN;
    let previous = NaN;
    for (const [timestamp, value] of items) {
      const bucket = bucketOf(timestamp, interval);
      if (bucket !== previous + interval && bucket !== previous) {
        if (!Number.isNaN(runStart)) this.backfillState.markRange(upstreamId, interval, runStart, previous);
        runStart = bucket;
      }
      previous = bucket;
      merged.set(bucket, value);
    }
    if (!Number.isNaN(runStart)) this.backfillState.markRange(upstreamId, interval, runStart, previous);
    const ring = this.ring(upstreamId, interval);
    const priorLast = ring.count === 0 ? null : ring.lastBucket;
    for (const [bucket, value] of new SeriesWindow(ring)) merged.set(bucket, value);
    const kept = [...merged.entries()].sort((a, b) => a[0] - b[0]).slice(-this.period);
    ring.clear();
    for (const [bucket, value] of kept) ring.append(bucket, value);
    const newLast = ring.count === 0 ? null : ring.lastBucket;
    ring.gap = priorLast !== null && newLast !== priorLast && priorLast + interval !== newLast;
  }

  #mapRings<T>(read: (ring: SeriesRing) => T): Map<string, Map<number, T>> {
    const out = new Map<string, Map<number, T>>();
    for (const [upstreamId, byInterval] of this.#rings) {
      out.set(upstreamId, new Map([...byInterval].map(([interval, ring]) => [interval, read(ring)])));
    }
    return out;
  }
}
