/**
 * Parallel compute (SPEC §3.5, `--workers N`): one CPU-heavy pure node (`rounds` passes over a
 * 64-bar window per bucket) in a chain StreamInput → close → heavy → signal, replayed serially
 * and on worker-thread pools of 1 and 2 threads. Runs alternate; medians are reported. Every
 * parallel run is checked against the serial one: outputs byte for byte, and every node's stats.
 *   node --import tsx bench/parallel-compute.ts [bars=20000] [rounds=2000] [runs=3]
 */
import { availableParallelism } from 'node:os';
import { heavyOscillator, MODULE_URL } from '../tests/fixtures/compute/pure-functions.js';
import { GarchGenerator } from '../src/generators/garch.js';
import { createComputePool, type ComputePool } from '../src/sdk/parallel/compute-pool.js';
import { replayParallel } from '../src/sdk/parallel/parallel-replay.js';
import { DEFAULT_HISTORY_TIMEOUT_MS } from '../src/sdk/history/backfill-engine.js';
import { MemoryHistoryProvider } from '../src/sdk/history/memory-history-provider.js';
import { ProcessingNode } from '../src/sdk/processing-node.js';
import { ExecutionGraph } from '../src/sdk/runner/execution-graph.js';
import { historySources } from '../src/sdk/runner/history-loader.js';
import type { OutputSeries } from '../src/sdk/runner/output-series.js';
import { replay } from '../src/sdk/runner/replay.js';
import { TickEngine } from '../src/sdk/runner/tick-engine.js';
import { Strategy } from '../src/sdk/strategy.js';
import { StreamInput } from '../src/sdk/stream-input.js';

const bars = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 2_000);
const runs = Number(process.argv[4] ?? 3);
const interval = 60;
const start = 1_704_067_200;
const end = start + (bars - 1) * interval;
const generator = new GarchGenerator({ seed: 11 });
const provider = new MemoryHistoryProvider(
  Array.from({ length: bars }, (_, i) => ({ ts: start + i * interval, close: generator.nextBar().close })),
);

class HeavyChain extends Strategy {
  constructor() {
    super({ defaultInterval: interval, defaultPeriod: 1 });
  }
  setup(): void {
    const price = new StreamInput({ tags: ['BENCH', 'close'], historyProvider: provider });
    const close = new ProcessingNode({
      name: 'close',
      input: price,
      computeFn: (view) => view.input<{ close: number }>().latest()!.close,
    });
    const heavy = new ProcessingNode({
      name: 'heavy',
      input: close,
      period: 64,
      params: { rounds },
      computeFn: heavyOscillator,
      worker: { module: MODULE_URL, export: 'heavyOscillator' },
    });
    const signal = new ProcessingNode({
      name: 'signal',
      input: heavy,
      period: 2,
      computeFn: (view) => (view.input().at(-1)! > view.input().at(0)! ? 1 : -1),
    });
    this.addNodes([price, close, heavy, signal]);
  }
}

/** One replay of the whole range; the outputs of `heavy` and `signal` as bytes, and every node's stats. */
async function run(pool: ComputePool | null, last = end): Promise<{ ms: number; fingerprint: string }> {
  const graph = new ExecutionGraph([new HeavyChain().prepare()], 'all');
  const sources = historySources(graph.sources, { maxRetries: 0, timeoutMs: DEFAULT_HISTORY_TIMEOUT_MS });
  const t0 = performance.now();
  if (pool === null) await replay(new TickEngine(graph.order, 'skip'), sources, start, last);
  else await replayParallel(graph, sources, start, last, { pool, onMissing: 'skip' });
  const ms = performance.now() - t0;
  const series = graph.order
    .filter((runtime) => runtime.node.name === 'heavy' || runtime.node.name === 'signal')
    .map((runtime) =>
      Buffer.from((runtime.outputs as OutputSeries<number>).values().buffer).toString('base64'),
    );
  return { ms, fingerprint: JSON.stringify([series, graph.order.map((runtime) => runtime.stats())]) };
}

const poolStart = performance.now();
const pools = new Map<string, ComputePool | null>([
  ['serial', null],
  ['workers=1', await createComputePool(1)],
  ['workers=2', await createComputePool(2)],
]);
// Start the threads, load the module in each and warm the JIT before timing.
for (const pool of pools.values()) await run(pool, start + 500 * interval);
const warmMs = performance.now() - poolStart;
const times = new Map<string, number[]>([...pools.keys()].map((name) => [name, []]));
let reference: string | null = null;
let identical = true;
for (let r = 0; r < runs; r++) {
  for (const [name, pool] of pools) {
    const { ms, fingerprint } = await run(pool);
    times.get(name)!.push(ms);
    reference ??= fingerprint;
    identical &&= fingerprint === reference;
  }
}
for (const pool of pools.values()) await pool?.close();

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const serialMs = median(times.get('serial')!);
console.log(
  `parallel compute: ${bars.toLocaleString('en-US')} bars, heavy node ${rounds} rounds × 64-bar window, ` +
    `${availableParallelism()} cores, median of ${runs} alternating runs (pools warmed in ${warmMs.toFixed(0)} ms)`,
);
for (const [name, xs] of times) {
  const ms = median(xs);
  console.log(
    `  ${name.padEnd(10)} ${ms.toFixed(0).padStart(7)} ms  ${((bars / ms) * 1000).toFixed(0).padStart(7)} bars/s  ` +
      `speed-up ${(serialMs / ms).toFixed(2)}x`,
  );
}
console.log(`  outputs and node stats identical to serial: ${identical}`);
