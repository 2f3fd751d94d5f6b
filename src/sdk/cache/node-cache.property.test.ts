/**
 * NodeCache.backfillBulk against a model over generated live bars and history batches (any order,
 * repeated buckets, holes): the window is the newest `period` buckets of history and live merged
 * with live winning, the recorded ranges are the history's buckets joined where they touch, and
 * the gap flag says whether the newest bucket moved past a hole.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeCache } from './node-cache.js';

const INTERVAL = 60;
const bucket = fc.integer({ min: 1, max: 30 }).map((k) => k * INTERVAL);

/** The buckets of `buckets` as ranges joined where they touch (`next <= end + interval`). */
function ranges(buckets: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const b of [...new Set(buckets)].sort((x, y) => x - y)) {
    const last = out.at(-1);
    if (last !== undefined && b <= last[1] + INTERVAL) last[1] = b;
    else out.push([b, b]);
  }
  return out;
}

describe('backfillBulk against a model', () => {
  it('merges history under live data, keeps the newest period and records what it merged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.uniqueArray(bucket, { maxLength: 6 }).map((bs) => bs.sort((x, y) => x - y)),
        fc.array(fc.array(fc.tuple(bucket, fc.integer()), { maxLength: 12 }), { minLength: 1, maxLength: 3 }),
        (period, live, batches) => {
          const cache = new NodeCache(period);
          for (const b of live) cache.append('u', INTERVAL, b, `live ${b}`);
          const seen: number[] = [];
          for (const batch of batches) {
            const prior = [...(cache.window('u', INTERVAL) ?? [])];
            const before = prior.at(-1)?.[0] ?? null;
            cache.backfillBulk('u', INTERVAL, batch);
            // History (the last value of a repeated bucket), under what the cache held before.
            const merged = new Map<number, unknown>(batch);
            for (const [b, v] of prior) merged.set(b, v);
            const expected = [...merged].sort(([a], [b]) => a - b).slice(-period);
            expect([...(cache.window('u', INTERVAL) ?? [])]).toEqual(expected);
            seen.push(...batch.map(([b]) => b));
            const after = expected.at(-1)?.[0] ?? null;
            const hole = before !== null && after !== before && after !== before + INTERVAL;
            expect(cache.missingFlags().get('u')?.get(INTERVAL) ?? false, `gap ${before} → ${after}`).toBe(
              hole,
            );
          }
          expect(cache.backfillState.ranges('u', INTERVAL)).toEqual(ranges(seen));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
