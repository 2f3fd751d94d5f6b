import { describe, expect, it } from 'vitest';
import { OutputSeries } from './output-series.js';

describe('OutputSeries', () => {
  it('appends, replaces the last entry on an equal timestamp, and ignores an older one', () => {
    const series = new OutputSeries<number>();
    series.push(60, 1);
    series.push(120, 2);
    series.push(120, 3); // a late correction of the newest bucket
    series.push(60, 9); // older: ignored, the series stays strictly increasing
    series.push(180, 4);
    expect(series.toArray()).toEqual([
      [60, 1],
      [120, 3],
      [180, 4],
    ]);
    expect(series.values()).toBeInstanceOf(Float64Array);
  });

  it('grows past its first allocation and switches to objects without losing numbers', () => {
    const series = new OutputSeries<unknown>();
    for (let t = 1; t <= 20_000; t++) series.push(t, t);
    series.push(20_001, { side: 'buy' });
    expect(series.length).toBe(20_001);
    expect(series.at(0)).toEqual([1, 1]);
    expect(series.at(-1)).toEqual([20_001, { side: 'buy' }]);
  });

  it('keeps at least the newest `limit` entries and drops older ones in batches', () => {
    const series = new OutputSeries<number>(1000);
    for (let t = 1; t <= 100_000; t++) series.push(t, t * 2);
    expect(series.length).toBeGreaterThanOrEqual(1000);
    expect(series.length).toBeLessThanOrEqual(16_384);
    expect(series.dropped + series.length).toBe(100_000);
    expect(series.at(-1)).toEqual([100_000, 200_000]);
    const times = series.timestamps();
    expect(times[0]).toBe(100_000 - series.length + 1);
    expect(Array.from(times.slice(-3))).toEqual([99_998, 99_999, 100_000]);
    const objects = new OutputSeries<unknown>(10);
    for (let t = 1; t <= 20_000; t++) objects.push(t, { t });
    expect(objects.at(-1)).toEqual([20_000, { t: 20_000 }]);
    expect(objects.at(0)![1]).toEqual({ t: objects.at(0)![0] });
  });
});
