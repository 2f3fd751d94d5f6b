/**
 * SeriesRing and OutputSeries against plain-array models over generated operation sequences:
 * appends on and off the next bucket, late corrections, older buckets, buckets computed as empty,
 * numbers and records mixed; output series with and without a limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputSeries } from '../runner/output-series.js';
import { AppendOutcome, SeriesRing } from './series-ring.js';
import { SeriesWindow } from './series-window.js';

const INTERVAL = 60;

type Op = { kind: 'append'; step: number; value: unknown } | { kind: 'empty'; step: number };

/** Bucket steps relative to the newest: 0 = same bucket, 1 = next, 2+ = a gap, -1 = older. */
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      step: fc.constantFrom(-1, 0, 1, 1, 1, 2, 3),
      value: fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.record({ v: fc.integer() })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('empty' as const), step: fc.constantFrom(1, 2) }) },
);

/** The ring's rules (SPEC §3.2) over a plain array of every bar kept. */
class RingModel {
  bars: [number, unknown][] = [];
  emptyThrough = -Infinity;
  gap = false;
  appended = 0;

  constructor(readonly capacity: number) {}

  get last(): number | undefined {
    return this.bars.at(-1)?.[0];
  }

  append(bucket: number, value: unknown): AppendOutcome {
    const last = this.last;
    if (last === undefined) {
      this.bars.push([bucket, value]);
      this.appended++;
      return AppendOutcome.Appended;
    }
    if (bucket === last) {
      this.bars[this.bars.length - 1] = [bucket, value];
      return AppendOutcome.Corrected;
    }
    if (bucket < last) return AppendOutcome.Rejected;
    const expected = Math.max(last, this.emptyThrough) + INTERVAL;
    this.gap = bucket > expected;
    this.bars.push([bucket, value]);
    this.appended++;
    return this.gap ? AppendOutcome.Gap : AppendOutcome.Appended;
  }

  window(): [number, unknown][] {
    return this.bars.slice(-this.capacity);
  }
}

describe('SeriesRing against a model', () => {
  it('keeps the newest period bars, flags gaps, corrects and rejects as the model does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const ring = new SeriesRing(capacity, INTERVAL);
        const model = new RingModel(capacity);
        const window = new SeriesWindow<unknown>(ring);
        let cursor = 6_000;
        for (const o of ops) {
          const base = model.last ?? cursor;
          const bucket = base + o.step * INTERVAL;
          if (o.kind === 'empty') {
            ring.markEmpty(bucket);
            model.emptyThrough = Math.max(model.emptyThrough, bucket);
            cursor = Math.max(cursor, bucket);
            continue;
          }
          expect(ring.append(bucket, o.value)).toBe(model.append(bucket, o.value));
          const kept = model.window();
          expect(window.length).toBe(kept.length);
          expect([...window]).toEqual(kept);
          expect(window.latest()).toEqual(kept.at(-1)?.[1] ?? null);
          expect(window.latestTime()).toBe(kept.at(-1)?.[0] ?? null);
          expect(Array.from(window.timestamps())).toEqual(kept.map(([t]) => t));
          expect(Array.from(window.values() as ArrayLike<unknown>)).toEqual(kept.map(([, v]) => v));
          expect(window.at(-1)).toEqual(kept.at(-1)?.[1]);
          expect(window.at(0)).toEqual(kept[0]?.[1]);
          expect(window.hasGap).toBe(model.gap);
          expect(window.appended).toBe(model.appended);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('OutputSeries against a model', () => {
  it('appends, replaces the last entry, ignores older ones and keeps at least the newest limit', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        fc.array(
          fc.tuple(fc.constantFrom(-1, 0, 1, 1, 2), fc.oneof(fc.integer(), fc.string({ maxLength: 2 }))),
          {
            maxLength: 120,
          },
        ),
        (limit, pushes) => {
          const series = new OutputSeries<unknown>(limit);
          const model: [number, unknown][] = [];
          let last = 1_000;
          for (const [step, value] of pushes) {
            const t = last + step * INTERVAL;
            series.push(t, value);
            const newest = model.at(-1)?.[0];
            if (newest === undefined || t > newest) model.push([t, value]);
            else if (t === newest) model[model.length - 1] = [t, value];
            last = Math.max(last, t);
          }
          const kept = series.toArray();
          expect(kept.length + series.dropped).toBe(model.length);
          expect(kept).toEqual(model.slice(series.dropped));
          if (limit !== undefined) expect(kept.length).toBeGreaterThanOrEqual(Math.min(limit, model.length));
          else expect(series.dropped).toBe(0);
          expect(series.at(-1)).toEqual(model.at(-1));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
