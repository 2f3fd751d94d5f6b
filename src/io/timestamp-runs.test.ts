import { describe, expect, it } from 'vitest';
import { contiguousRanges } from './timestamp-runs.js';

describe('contiguousRanges', () => {
  it('groups runs where each timestamp is the previous plus the interval', () => {
    expect(contiguousRanges([60, 120, 240, 300], 60)).toEqual([
      [60, 120],
      [240, 300],
    ]);
  });

  it('returns single-bar runs, skips duplicates and reads typed arrays', () => {
    expect(contiguousRanges(Float64Array.from([0, 0, 60, 180]), 60)).toEqual([
      [0, 60],
      [180, 180],
    ]);
    expect(contiguousRanges([], 60)).toEqual([]);
  });

  it('treats a step that is not exactly one interval as a gap', () => {
    expect(contiguousRanges([0, 30, 90], 60)).toEqual([
      [0, 0],
      [30, 90],
    ]);
  });
});
