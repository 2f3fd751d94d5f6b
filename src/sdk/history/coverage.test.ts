import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { mergeRanges, missingRanges } from './coverage.js';

describe('mergeRanges', () => {
  it('returns an empty list for no ranges', () => {
    expect(mergeRanges([], 60)).toEqual([]);
  });

  it('sorts ranges by start', () => {
    expect(
      mergeRanges(
        [
          [600, 660],
          [0, 60],
        ],
        60,
      ),
    ).toEqual([
      [0, 60],
      [600, 660],
    ]);
  });

  it('merges overlapping ranges', () => {
    expect(
      mergeRanges(
        [
          [0, 300],
          [120, 600],
        ],
        60,
      ),
    ).toEqual([[0, 600]]);
  });

  it('merges ranges that touch at the next bucket', () => {
    expect(
      mergeRanges(
        [
          [0, 60],
          [120, 180],
        ],
        60,
      ),
    ).toEqual([[0, 180]]);
  });

  it('keeps ranges apart when a bucket is missing between them', () => {
    expect(
      mergeRanges(
        [
          [0, 60],
          [180, 240],
        ],
        60,
      ),
    ).toEqual([
      [0, 60],
      [180, 240],
    ]);
  });

  it('absorbs a range contained in another', () => {
    expect(
      mergeRanges(
        [
          [0, 600],
          [120, 180],
        ],
        60,
      ),
    ).toEqual([[0, 600]]);
  });

  it('swaps reversed pairs', () => {
    expect(
      mergeRanges(
        [
          [240, 180],
          [60, 0],
        ],
        60,
      ),
    ).toEqual([
      [0, 60],
      [180, 240],
    ]);
  });

  it('keeps single-bucket ranges', () => {
    expect(
      mergeRanges(
        [
          [60, 60],
          [120, 120],
          [300, 300],
        ],
        60,
      ),
    ).toEqual([
      [60, 120],
      [300, 300],
    ]);
  });

  it('does not modify its input', () => {
    const input = [
      [120, 180],
      [0, 60],
    ] as const;
    mergeRanges(input, 60);
    expect(input).toEqual([
      [120, 180],
      [0, 60],
    ]);
  });

  it('rejects a non-positive interval', () => {
    expect(() => mergeRanges([[0, 60]], 0)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });
});

describe('missingRanges', () => {
  it('returns the whole range when nothing is covered', () => {
    expect(missingRanges([], 0, 300, 60)).toEqual([[0, 300]]);
  });

  it('returns nothing when coverage matches the range exactly', () => {
    expect(missingRanges([[0, 300]], 0, 300, 60)).toEqual([]);
  });

  it('returns nothing when coverage extends beyond both ends', () => {
    expect(missingRanges([[-600, 900]], 0, 300, 60)).toEqual([]);
  });

  it('returns the gaps before, between and after covered ranges', () => {
    expect(
      missingRanges(
        [
          [120, 180],
          [360, 420],
        ],
        0,
        600,
        60,
      ),
    ).toEqual([
      [0, 60],
      [240, 300],
      [480, 600],
    ]);
  });

  it('returns a leading gap when coverage starts one bucket late', () => {
    expect(missingRanges([[60, 300]], 0, 300, 60)).toEqual([[0, 0]]);
  });

  it('returns a trailing gap when coverage ends one bucket early', () => {
    expect(missingRanges([[0, 240]], 0, 300, 60)).toEqual([[300, 300]]);
  });

  it('treats adjacent ranges as continuous', () => {
    expect(
      missingRanges(
        [
          [0, 120],
          [180, 300],
        ],
        0,
        300,
        60,
      ),
    ).toEqual([]);
  });

  it('handles overlapping and unsorted coverage', () => {
    expect(
      missingRanges(
        [
          [240, 420],
          [0, 120],
          [60, 180],
        ],
        0,
        600,
        60,
      ),
    ).toEqual([[480, 600]]);
  });

  it('ignores coverage entirely before the range', () => {
    expect(missingRanges([[-300, -60]], 0, 120, 60)).toEqual([[0, 120]]);
  });

  it('ignores coverage entirely after the range', () => {
    expect(missingRanges([[600, 900]], 0, 120, 60)).toEqual([[0, 120]]);
  });

  it('clips a gap to the end of the range', () => {
    expect(
      missingRanges(
        [
          [0, 60],
          [600, 900],
        ],
        0,
        300,
        60,
      ),
    ).toEqual([[120, 300]]);
  });

  it('drops the empty gap left by an unaligned start', () => {
    expect(missingRanges([[60, 300]], 30, 300, 60)).toEqual([]);
  });

  it('reports a gap from an unaligned start', () => {
    expect(missingRanges([[180, 300]], 30, 300, 60)).toEqual([[30, 120]]);
  });

  it('returns nothing for an empty range', () => {
    expect(missingRanges([], 300, 0, 60)).toEqual([]);
  });

  it('returns a single bucket for start equal to end', () => {
    expect(missingRanges([], 120, 120, 60)).toEqual([[120, 120]]);
    expect(missingRanges([[120, 120]], 120, 120, 60)).toEqual([]);
  });
});
