/**
 * Groups ascending bucket timestamps into inclusive runs where each is the previous plus
 * `interval`: `[60, 120, 240, 300]` at 60 → `[[60, 120], [240, 300]]`. Duplicates are skipped.
 */
export function contiguousRanges(timestamps: ArrayLike<number>, interval: number): [number, number][] {
  const ranges: [number, number][] = [];
  let current: [number, number] | null = null;
  for (let i = 0; i < timestamps.length; i += 1) {
    const ts = timestamps[i] as number;
    if (current !== null && ts === current[1]) continue;
    if (current !== null && ts === current[1] + interval) {
      current[1] = ts;
    } else {
      current = [ts, ts];
      ranges.push(current);
    }
  }
  return ranges;
}
