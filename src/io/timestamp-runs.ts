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

/**
 * Inclusive runs from the rows that bound them, as {@link runBoundariesSql} returns them:
 * `[ts, previous ts, next ts]` in microseconds, ascending, null where the stream has no
 * neighbour. A row starts a run when its step from the previous one is not 0 or one interval,
 * and ends one when its step to the next one is not; the result is in epoch seconds.
 */
export function runsFromBoundaries(
  rows: readonly (readonly unknown[])[],
  interval: number,
): [number, number][] {
  const step = interval * 1_000_000;
  const ranges: [number, number][] = [];
  let current: [number, number] | null = null;
  for (const [ts, previous, next] of rows) {
    const micros = Number(ts);
    const startsRun = previous === null || !continues(Number(previous), micros, step);
    if (startsRun || current === null) ranges.push((current = [micros / 1e6, micros / 1e6]));
    if (next === null || !continues(micros, Number(next), step)) current[1] = micros / 1e6;
  }
  return ranges;
}

function continues(from: number, to: number, step: number): boolean {
  return to - from === 0 || to - from === step;
}
