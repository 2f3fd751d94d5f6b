/**
 * Backtest throughput: StreamInput → EMA(20) → signal over N one-minute bars, against a
 * hand-written loop computing the same signal over the same rows, in the same process. A third
 * loop does only what the runner's storage must do per bar (the three ring appends, the EMA, the
 * output append), with no engine around it: the floor of the runner's data model.
 * The three alternate for `runs` rounds; medians are reported.
 *   node --import tsx bench/backtest-throughput.ts [bars=1000000] [runs=7]
 */
import { EMA } from '../src/indicators/ema.js';
import { SeriesRing } from '../src/sdk/cache/series-ring.js';
import { MemoryHistoryProvider } from '../src/sdk/history/memory-history-provider.js';
import { OutputSeries } from '../src/sdk/runner/output-series.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { EmaSignal } from './chain-strategies.js';
import { closeRows, handLoop, INTERVAL, START } from './ema-signal-baseline.js';

const bars = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 7);
const rows = closeRows(bars);
const provider = new MemoryHistoryProvider(rows);

/**
 * The runner's storage alone: each row goes into the EMA's ring (period 20) and the signal's ring
 * (period 1), the EMA reads the newest row, its value goes into the signal's second ring, and the
 * signal is appended to an output series.
 */
function storageFloor(): Float64Array {
  const emaRows = new SeriesRing(20, INTERVAL);
  const signalRows = new SeriesRing(1, INTERVAL);
  const signalAverages = new SeriesRing(1, INTERVAL);
  const average = new EMA(20);
  const outputs = new OutputSeries<number>();
  for (const row of rows) {
    emaRows.append(row.ts, row);
    signalRows.append(row.ts, row);
    const value = average.update((emaRows.latest() as { close: number }).close);
    if (value === null) continue;
    signalAverages.append(row.ts, value);
    const close = (signalRows.latest() as { close: number }).close;
    outputs.push(row.ts, close > (signalAverages.latest() as number) ? 1 : -1);
  }
  return outputs.values();
}

async function viaRunner(): Promise<Float64Array> {
  const strategy = new EmaSignal(provider);
  const result = await Runner.backtest(strategy, {
    startTime: START,
    endTime: START + (bars - 1) * INTERVAL,
  });
  return result.outputs<number>(strategy.nodes.at(-1)!).values();
}

const timed = async (fn: () => Float64Array | Promise<Float64Array>): Promise<[number, Float64Array]> => {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
};
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const hand: number[] = [];
const floor: number[] = [];
const ours: number[] = [];
let identical = true;
for (let r = 0; r < runs; r++) {
  const [handMs, expected] = await timed(() => handLoop(rows));
  const [floorMs, stored] = await timed(storageFloor);
  const [oursMs, actual] = await timed(viaRunner);
  hand.push(handMs);
  floor.push(floorMs);
  ours.push(oursMs);
  const same = (xs: Float64Array): boolean =>
    xs.length === expected.length && xs.every((v, i) => v === expected[i]);
  identical &&= same(stored) && same(actual);
}
const rate = (ms: number): string => `${(((bars / ms) * 1000) / 1e6).toFixed(2)} M bars/s`;
const row = (label: string, ms: number): string =>
  `  ${label.padEnd(22)}${ms.toFixed(1).padStart(8)} ms  ${rate(ms)}  ${(ms / median(hand)).toFixed(2)}x`;
console.log(`backtest throughput: ${bars.toLocaleString('en-US')} bars, median of ${runs} alternating runs`);
console.log(row('hand-written loop', median(hand)));
console.log(row('storage floor', median(floor)));
console.log(row('Runner.backtest', median(ours)));
console.log(`  identical signals: ${identical}`);
