import type { OutputSeries } from '../sdk/runner/output-series.js';

/** How a signal series would have traded the close: hold `signal` from one bar to the next. */
export interface SignalPerformance {
  readonly signals: number;
  /** Changes of position. */
  readonly trades: number;
  /** Compounded return of holding each signal for the following bar. */
  readonly totalReturn: number;
  /** Of the bars spent in a position, the share that made money. */
  readonly hitRate: number;
  readonly lastSignal: number | null;
}

/** Scores a signal series against close prices (both keyed by bucket timestamp). */
export function signalPerformance(
  signal: OutputSeries<number>,
  closes: ReadonlyMap<number, number>,
  interval: number,
): SignalPerformance {
  let equity = 1;
  let trades = 0;
  let held = 0;
  let wins = 0;
  let previous = 0;
  for (const [time, position] of signal) {
    if (position !== previous) trades++;
    previous = position;
    const now = closes.get(time);
    const next = closes.get(time + interval);
    if (position === 0 || now === undefined || next === undefined) continue;
    const pnl = position * (next / now - 1);
    equity *= 1 + pnl;
    held++;
    if (pnl > 0) wins++;
  }
  return {
    signals: signal.length,
    trades,
    totalReturn: equity - 1,
    hitRate: held === 0 ? 0 : wins / held,
    lastSignal: signal.at(-1)?.[1] ?? null,
  };
}
