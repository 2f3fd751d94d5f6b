/**
 * Backtest throughput: StreamInput → EMA(20) → signal over N one-minute bars, against a
 * hand-written loop computing the same signal over the same rows, in the same process.
 * The two alternate for `runs` rounds; medians are reported.
 *   node --import tsx bench/backtest-throughput.ts [bars=1000000] [runs=7]
 */
import { GarchGenerator } from '../src/generators/garch.js';
import { EMA } from '../src/indicators/ema.js';
import { MemoryHistoryProvider } from '../src/sdk/history/memory-history-provider.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { EmaSignal } from './chain-strategies.js';

const bars = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 7);
const interval = 60;
const start = 1_704_067_200;
const generator = new GarchGenerator({ seed: 7 });
const rows = Array.from({ length: bars }, (_, i) => ({
  ts: start + i * interval,
  close: generator.nextBar().close,
}));
const provider = new MemoryHistoryProvider(rows);

/** What a quant would write by hand: one EMA, one comparison per bar, outputs in a typed array. */
function handLoop(): Float64Array {
  const average = new EMA(20);
  const outputs = new Float64Array(rows.length);
  let n = 0;
  for (const row of rows) {
    const value = average.update(row.close);
    if (value !== null) outputs[n++] = row.close > value ? 1 : -1;
  }
  return outputs.subarray(0, n);
}

async function viaRunner(): Promise<Float64Array> {
  const strategy = new EmaSignal(provider);
  const result = await Runner.backtest(strategy, {
    startTime: start,
    endTime: start + (bars - 1) * interval,
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
const ours: number[] = [];
let identical = true;
for (let r = 0; r < runs; r++) {
  const [handMs, expected] = await timed(handLoop);
  const [oursMs, actual] = await timed(viaRunner);
  hand.push(handMs);
  ours.push(oursMs);
  identical &&= expected.length === actual.length && expected.every((v, i) => v === actual[i]);
}
const rate = (ms: number): string => `${(((bars / ms) * 1000) / 1e6).toFixed(2)} M bars/s`;
console.log(`backtest throughput: ${bars.toLocaleString('en-US')} bars, median of ${runs} alternating runs`);
console.log(`  hand-written loop    ${median(hand).toFixed(1).padStart(8)} ms  ${rate(median(hand))}`);
console.log(`  Runner.backtest      ${median(ours).toFixed(1).padStart(8)} ms  ${rate(median(ours))}`);
console.log(
  `  ratio Runner / hand  ${(median(ours) / median(hand)).toFixed(2)}x   identical signals: ${identical}`,
);
