import { describe, expect, it } from 'vitest';
import { SeriesRing } from '../cache/series-ring.js';
import { SeriesWindow } from '../cache/series-window.js';
import { restoreRing, snapshotRing } from './ring-snapshot.js';

/** Everything a compute function can read of a window. */
function readable(ring: SeriesRing) {
  const window = new SeriesWindow(ring);
  return {
    length: window.length,
    interval: window.interval,
    appended: window.appended,
    hasGap: window.hasGap,
    values: window.values(),
    timestamps: window.timestamps(),
    first: window.at(0),
    last: window.at(-1),
    latest: window.latest(),
    latestTime: window.latestTime(),
    entries: [...window],
    expectedBucket: ring.expectedBucket,
    emptyThrough: ring.emptyThrough,
  };
}

describe('ring snapshots', () => {
  it('rebuild a wrapped numeric ring, gap flag included, into a fresh ring', () => {
    const ring = new SeriesRing(4, 60);
    for (const t of [60, 120, 180, 240, 300, 420]) ring.append(t, t / 60);
    ring.markEmpty(480);
    const copy = new SeriesRing(4, 60);
    restoreRing(copy, snapshotRing('up', ring));
    expect(readable(copy)).toStrictEqual(readable(ring));
    expect(readable(copy)).toMatchObject({
      length: 4,
      hasGap: true,
      values: Float64Array.from([3, 4, 5, 7]),
    });
  });

  it('rebuild record and partly filled rings into a ring that held something else', () => {
    const records = new SeriesRing(3, 60);
    records.append(60, { close: 1 });
    records.append(120, { close: 2 });
    const reused = new SeriesRing(3, 60);
    for (const t of [60, 120, 180, 240]) reused.append(t, t);
    restoreRing(reused, snapshotRing('up', records));
    expect(readable(reused)).toStrictEqual(readable(records));
    const numbers = new SeriesRing(3, 60);
    numbers.append(600, 1.5);
    restoreRing(reused, snapshotRing('up', numbers));
    expect(readable(reused)).toStrictEqual(readable(numbers));
  });

  it('copies, so later appends to the original do not show through', () => {
    const ring = new SeriesRing(2, 60);
    ring.append(60, 1);
    const snapshot = snapshotRing('up', ring);
    ring.append(120, 2);
    expect([...snapshot.numbers!]).toEqual([1]);
  });
});
