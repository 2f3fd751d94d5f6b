/**
 * The data and the baseline of the StreamInput → EMA(20) → signal benchmarks: seeded GARCH closes
 * on one-minute bars, and the signal computed by a hand-written loop.
 */
import { GarchGenerator } from '../src/generators/garch.js';
import { EMA } from '../src/indicators/ema.js';

export const INTERVAL = 60;
export const START = 1_704_067_200;

/** A history row with a close. */
export interface CloseRow {
  readonly ts: number;
  readonly close: number;
  readonly [field: string]: unknown;
}

/** `bars` rows of seeded GARCH(1,1) closes (seed 7), one per minute from {@link START}. */
export function closeRows(bars: number): CloseRow[] {
  const generator = new GarchGenerator({ seed: 7 });
  return Array.from({ length: bars }, (_, i) => ({
    ts: START + i * INTERVAL,
    close: generator.nextBar().close,
  }));
}

/** What a quant would write by hand: one EMA, one comparison per bar, outputs in a typed array. */
export function handLoop(rows: readonly CloseRow[]): Float64Array {
  const average = new EMA(20);
  const outputs = new Float64Array(rows.length);
  let n = 0;
  for (const row of rows) {
    const value = average.update(row.close);
    if (value !== null) outputs[n++] = row.close > value ? 1 : -1;
  }
  return outputs.subarray(0, n);
}
