import { describe, expect, it } from 'vitest';
import { contiguousRanges, runsFromBoundaries } from './timestamp-runs.js';

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

describe('runsFromBoundaries', () => {
  it('pairs the rows that start and end runs, in microseconds, into runs in seconds', () => {
    const us = (seconds: number): number => seconds * 1_000_000;
    // Rows 60, 120, 120, 180, 300, 370 at 60: QuestDB returns the four that bound a run.
    const rows = [
      [us(60), null, us(120)],
      [us(180), us(120), us(300)],
      [us(300), us(180), us(370)],
      [us(370), us(300), null],
    ];
    expect(runsFromBoundaries(rows, 60)).toEqual(contiguousRanges([60, 120, 120, 180, 300, 370], 60));
    expect(runsFromBoundaries([[us(60), null, null]], 60)).toEqual([[60, 60]]);
    expect(runsFromBoundaries([], 60)).toEqual([]);
  });
});
