/**
 * Sharing: ten strategies that each declare the same 5-node chain, run together, against one
 * strategy alone. Identical NodeIDs are computed once, so ten should cost about as much as one.
 *   node --import tsx bench/shared-strategies.ts [bars=500000] [runs=7]
 */
import { GarchHistoryProvider } from '../src/generators/garch-history-provider.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { FiveNodeChain } from './chain-strategies.js';

const bars = Number(process.argv[2] ?? 500_000);
const runs = Number(process.argv[3] ?? 7);
const start = 1_704_067_200;
const provider = new GarchHistoryProvider({ seed: 11, start, bars, interval: 60 });
const options = { startTime: start, endTime: start + (bars - 1) * 60 } as const;

async function timeRun(count: number): Promise<{ ms: number; computeCalls: number; saved: number }> {
  const strategies = Array.from({ length: count }, () => new FiveNodeChain(provider));
  const t0 = performance.now();
  const result = await Runner.run(strategies, options);
  return {
    ms: performance.now() - t0,
    computeCalls: result.dedup.computeCalls,
    saved: result.dedup.computeCallsSaved,
  };
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const one: number[] = [];
const ten: number[] = [];
let last = { one: { computeCalls: 0, saved: 0 }, ten: { computeCalls: 0, saved: 0 } };
for (let r = 0; r < runs; r++) {
  const a = await timeRun(1);
  const b = await timeRun(10);
  one.push(a.ms);
  ten.push(b.ms);
  last = { one: a, ten: b };
}
console.log(`shared 5-node chain: ${bars.toLocaleString('en-US')} bars, median of ${runs} alternating runs`);
console.log(
  `  1 strategy    ${median(one).toFixed(1).padStart(8)} ms  compute calls ${last.one.computeCalls.toLocaleString('en-US')}`,
);
console.log(
  `  10 strategies ${median(ten).toFixed(1).padStart(8)} ms  compute calls ${last.ten.computeCalls.toLocaleString('en-US')}, saved ${last.ten.saved.toLocaleString('en-US')}`,
);
console.log(`  ratio 10 / 1  ${(median(ten) / median(one)).toFixed(2)}x`);
