import { describe, expect, it } from 'vitest';
import { AppendOutcome, SeriesRing } from './series-ring.js';

describe('SeriesRing', () => {
  it('keeps at most capacity values, oldest to newest, across wrap-around', () => {
    const ring = new SeriesRing(3, 60);
    for (let i = 1; i <= 5; i++) ring.append(i * 60, i);
    expect(ring.count).toBe(3);
    expect([0, 1, 2].map((k) => ring.valueAt(k))).toEqual([3, 4, 5]);
    expect([0, 1, 2].map((k) => ring.timeAt(k))).toEqual([180, 240, 300]);
    expect(ring.numbers!.subarray(ring.start, ring.start + ring.count)).toEqual(new Float64Array([3, 4, 5]));
  });

  it('flags a gap only for the latest append', () => {
    const ring = new SeriesRing(4, 60);
    expect(ring.append(60, 1)).toBe(AppendOutcome.Appended);
    expect(ring.append(180, 2)).toBe(AppendOutcome.Gap);
    expect(ring.gap).toBe(true);
    expect(ring.append(240, 3)).toBe(AppendOutcome.Appended);
    expect(ring.gap).toBe(false);
  });

  it('replaces the newest slot on a duplicate bucket instead of counting a gap', () => {
    const ring = new SeriesRing(3, 60);
    ring.append(60, 1);
    ring.append(120, 2);
    expect(ring.append(120, 20)).toBe(AppendOutcome.Corrected);
    expect(ring.count).toBe(2);
    expect(ring.latest()).toBe(20);
    expect(ring.gap).toBe(false);
  });

  it('rejects an older bucket and leaves the ring unchanged', () => {
    const ring = new SeriesRing(3, 60);
    ring.append(120, 2);
    expect(ring.append(60, 1)).toBe(AppendOutcome.Rejected);
    expect(ring.count).toBe(1);
    expect(ring.latest()).toBe(2);
  });

  it('switches to object storage on the first non-number and keeps earlier numbers', () => {
    const ring = new SeriesRing(3, 60);
    ring.append(60, 1);
    ring.append(120, { close: 2 });
    expect(ring.numbers).toBeNull();
    expect(ring.valueAt(0)).toBe(1);
    expect(ring.valueAt(1)).toEqual({ close: 2 });
  });

  it('reports resident bytes of its storage', () => {
    expect(new SeriesRing(4, 60).residentBytes).toBe(2 * 4 * 8 * 2);
  });
});
