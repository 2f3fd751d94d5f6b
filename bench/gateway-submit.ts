/**
 * Gateway `POST /strategies` → 202 latency over real HTTP (fetch, keep-alive, 127.0.0.1), open
 * loop at a constant arrival rate: request i starts at `i / rate` s whether or not earlier ones
 * finished, and its latency runs from that scheduled start to the end of the reply body (so a
 * client that falls behind cannot hide a slow server). Every request is a different DAG (a chain
 * of `nodes` wire nodes with its own names, so every node id is new, and the 409 dedupe never
 * answers); the `status` of each 202 is counted (`completed` = the diff is in the reply). The
 * load generator runs in its own process. Setups, in one run, on
 * the same request bodies:
 * - baseline: a bare Fastify route answering 202 at once (same client, bodies and rate),
 * - embedded: SQLite (temp dir; WAL, synchronous=FULL) + MemoryStateStore + in-process DAG Manager,
 * - distributed: PostgreSQL (a fresh schema, dropped after) + Redis (a unique key prefix, deleted
 *   after) + the DAG Manager over gRPC in its own process (memory repository).
 * The host CPU shedding of the degradation manager is pinned off: the VM is shared, and a
 * neighbour's CPU would turn submissions into 503s. `breakdown` times every phase of each
 * submission in the Gateway process (adapters wrapped in timing proxies). The pieces, shared with
 * `gateway-burst.ts`: `gateway-load.ts` (load generator, measurement), `gateway-setups.ts`,
 * `gateway-figures.ts` (quantiles, cells, CPU from /proc) and `gateway-breakdown.ts`.
 *   node --import tsx bench/gateway-submit.ts [rate=50] [seconds=20] [nodes=100] [breakdown]
 *     [baseline|embedded|distributed …]   (default: all three)
 *     [connections=256]   (fetch keep-alive connections at most; 0 = one per concurrent request)
 *     [workers=N] [pool=N]   (tuning knobs, not the defaults)
 */
import type { Gateway } from '../src/gateway/create-gateway.js';
import { PhaseRecorder } from './gateway-breakdown.js';
import { countBy, latencySummary, ms } from './gateway-figures.js';
import { LoadGenerator, measure, type LoadResult } from './gateway-load.js';
import { numberArg, startBaseline, startDistributed, startEmbedded, tuningFrom } from './gateway-setups.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const breakdown = args.includes('breakdown');
  const [rateArg = '50', secondsArg = '20', nodesArg = '100'] = args.filter((a) => /^\d/.test(a));
  const tuning = tuningFrom(args);
  const all = { baseline: startBaseline, embedded: startEmbedded, distributed: startDistributed };
  const names = Object.keys(all).filter((name) => args.includes(name));
  const chosen = Object.entries(all).filter(([name]) => names.length === 0 || names.includes(name));
  const rate = Number(rateArg);
  const nodes = Number(nodesArg);
  const count = Math.round(rate * Number(secondsArg));
  const connections = numberArg(args, 'connections') ?? 256;
  const loader = await LoadGenerator.start({
    rate,
    count,
    warmup: 50,
    nodes,
    timeoutMs: 30_000,
    connections,
  });
  const targets: Record<string, number> = { embedded: 15, distributed: 50 };
  const recorders: [string, PhaseRecorder, LoadResult][] = [];
  const cpu: string[] = [];
  console.log(`\nGateway POST /strategies → 202, ${nodes}-node DAGs, open loop ${rate}/s × ${count}, ms`);
  console.log(
    '| setup | sent/s | answered/s | codes | reply status | p50 | p95 | p99 | max | loop lag p99 | target p95 | verdict |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [, start] of chosen) {
    const recorder = breakdown ? new PhaseRecorder() : null;
    const setup = await start({
      ...tuning,
      ...(recorder !== null && {
        wrap: recorder.wrap,
        attach: (gateway: Gateway) => recorder.attach(gateway),
      }),
    });
    try {
      const { result, loopLagP99, cpuMs } = await measure(loader, setup);
      cpu.push(
        `| ${setup.name} | ${[...cpuMs].map(([name, value]) => `${name} ${(value / count).toFixed(2)}`).join(' · ')} |`,
      );
      const { p50, p95, p99, max } = latencySummary(result);
      const target = targets[setup.name];
      const verdict = target === undefined ? '—' : p95 <= target ? 'met' : '**not met**';
      console.log(
        `| ${setup.name} | ${(count / result.sentSeconds).toFixed(1)} | ${(count / result.answeredSeconds).toFixed(1)} | ${countBy(result.codes)} | ${countBy(result.replyStatuses)} | ${ms(p50)} | ${ms(p95)} | ${ms(p99)} | ${ms(max)} | ${ms(loopLagP99)} | ${target === undefined ? '—' : `≤ ${target}`} | ${verdict} |`,
      );
      if (result.sendLagP99 > 10)
        console.log(
          `  (the load generator sent late: send lag p99 ${ms(result.sendLagP99)} ms; latencies count from the schedule)`,
        );
      if (recorder !== null && setup.gateway !== null) recorders.push([setup.name, recorder, result]);
    } finally {
      await setup.close();
    }
  }
  loader.close();
  console.log('\nCPU ms per request while the load ran (/proc/PID/stat)');
  console.log('| setup | CPU ms / request |\n|---|---|');
  for (const line of cpu) console.log(line);
  for (const [name, recorder, result] of recorders) {
    console.log(`\nBreakdown, ${name}:`);
    recorder.print(result.ids, result.latencies);
  }
}

await main();
