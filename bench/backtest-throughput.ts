/**
 * Backtest throughput: StreamInput → EMA(20) → signal over N bars, against a hand-written loop
 * computing the same signal over the same rows, in the same process.
 *   node --import tsx bench/backtest-throughput.ts [bars=1000000]
 */
import { EMA, ema } from '../src/indicators/index.js';
import { MemoryHistoryProvider } from '../src/sdk/history/memory-history-provider.js';
import { ProcessingNode } from '../src/sdk/processing-node.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { Strategy } from '../src/sdk/strategy.js';
import { StreamInput } from '../src/sdk/stream-input.js';
import { GarchGenerator } from '../src/generators/garch.js';

const bars = Number(process.argv[2] ?? 1_000_000);
const interval = 60;
const start = 1_700_000_000 - (1_700_000_000 % interval);

const generator = new GarchGenerator({ seed: 7 });
const rows = Array.from({ length: bars }, (_, i) => ({ ts: start + i * interval, close: generator.nextBar().close }));
const provider = new MemoryHistoryProvider(rows);

class EmaSignal extends Strategy {
  constructor() {
    super({ defaultInterval: interval, defaultPeriod: 1 });
  }
  setup(): void {
    const price = new StreamInput({ tags: ['BENCH', 'close'], historyProvider: provider });
    const average = ema(price, { period: 20, field: 'close' });
    const signal = new ProcessingNode({
      name: 'signal',
      input: [price, average],
      computeFn: (view) => (view.input<{ close: number }>(0).latest()!.close > view.input(1).latest()! ? 1 : -1),
    });
    this.addNodes([price, average, signal]);
  }
}

function handLoop(): { outputs: Float64Array; ms: number } {
  const t0 = performance.now();
  const average = new EMA(20);
  const outputs = new Float64Array(rows.length);
  let n = 0;
  for (const row of rows) {
    const e = average.update(row.close);
    if (e !== null) outputs[n++] = row.close > e ? 1 : -1;
  }
  return { outputs: outputs.subarray(0, n), ms: performance.now() - t0 };
}

async function qmtl(): Promise<{ outputs: Float64Array; ms: number }> {
  const t0 = performance.now();
  const result = await Runner.backtest(EmaSignal, { startTime: start, endTime: start + (bars - 1) * interval });
  const ms = performance.now() - t0;
  const leaf = result.strategy.nodes.at(-1)!;
  return { outputs: result.outputs<number>(leaf).values() as Float64Array, ms };
}

const runs = 5;
const hand: number[] = [];
const ours: number[] = [];
let check = true;
for (let r = 0; r < runs; r++) {
  const a = handLoop();
  const b = await qmtl();
  hand.push(a.ms);
  ours.push(b.ms);
  check &&= a.outputs.length === b.outputs.length && a.outputs.every((v, i) => v === b.outputs[i]);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const handMs = median(hand);
const oursMs = median(ours);
console.log(`bars: ${bars}, runs: ${runs} (median)`);
console.log(`hand-written loop : ${handMs.toFixed(1)} ms  ${((bars / handMs) * 1000 / 1e6).toFixed(2)} M bars/s`);
console.log(`qmtl Runner.backtest: ${oursMs.toFixed(1)} ms  ${((bars / oursMs) * 1000 / 1e6).toFixed(2)} M bars/s`);
console.log(`ratio qmtl / hand: ${(oursMs / handMs).toFixed(2)}x; identical signals: ${check}`);
