/**
 * Gateway burst: `count` submissions at a constant arrival rate (open loop; default 10,000 at
 * 1,000/s), each a different `nodes`-node DAG, over real HTTP against the embedded and the
 * distributed setup of `gateway-setups.ts` (the load generator of `gateway-load.ts`). Prints
 * achieved requests/s (sent, answered), status codes, p50/p95/p99 latency, then the zero-lost
 * check once the worker has drained (no strategy `queued`/`processing`, deadline `drain` s):
 * every acknowledged (202) strategy is in the database with status `completed`, in the state
 * cache as `completed`, and its event log holds exactly one `COMPLETE` (and one `PROCESS`); the
 * FIFO and its in-flight list are empty. Exits 1 when any acknowledged submission is lost.
 * The load generator keeps at most `connections` keep-alive connections (see gateway-load.ts).
 *   node --import tsx bench/gateway-burst.ts [rate=1000] [count=10000] [nodes=5] [drain=120]
 *     [embedded|distributed] [connections=256] [breakdown]
 *     [workers=N] [pool=N]
 * (the last line: tuning knobs, not the defaults). Exits 1 also when any is duplicated or not
 * completed.
 */
import type { Gateway } from '../src/gateway/create-gateway.js';
import type { StrategyStatus } from '../src/gateway/strategy-status.js';
import { PhaseRecorder } from './gateway-breakdown.js';
import { countBy, latencySummary, ms } from './gateway-figures.js';
import { LoadGenerator, measure, type LoadResult } from './gateway-load.js';
import { numberArg, startDistributed, startEmbedded, tuningFrom, type BenchSetup } from './gateway-setups.js';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => /^[a-z]/.test(a)));
const tuning = tuningFrom(args);
const [rateArg = '1000', countArg = '10000', nodesArg = '5', drainArg = '120'] = args.filter((a) =>
  /^\d/.test(a),
);
const rate = Number(rateArg);
const count = Number(countArg);
const drainSeconds = Number(drainArg);
const starts = { embedded: startEmbedded, distributed: startDistributed };
const chosen = (Object.keys(starts) as (keyof typeof starts)[]).filter((name) => flags.has(name));
const ALL_STATUSES: StrategyStatus[] = ['queued', 'processing', 'completed', 'failed', 'stopped'];

/** What the zero-lost check found, as lists of offending ids. */
interface Audit {
  readonly acked: number;
  readonly lost: string[];
  readonly notCompleted: string[];
  readonly cacheWrong: string[];
  readonly duplicated: string[];
  readonly reprocessed: string[];
  readonly rows: number;
  readonly fifoLeft: number;
  readonly drainSeconds: number;
}

/** Waits until no strategy is queued or processing and the FIFO is empty; returns the seconds it took. */
async function drain(setup: BenchSetup): Promise<number> {
  const started = performance.now();
  const deadline = started + drainSeconds * 1000;
  while (performance.now() < deadline) {
    const [unfinished, queued, inFlight] = await Promise.all([
      setup.store!.listByStatus(['queued', 'processing']),
      setup.state!.queued(),
      setup.state!.inFlight(),
    ]);
    if (unfinished.length + queued.length + inFlight.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return (performance.now() - started) / 1000;
}

async function audit(setup: BenchSetup, result: LoadResult): Promise<Audit> {
  const seconds = await drain(setup);
  const ids = result.ids.filter((id): id is string => id !== null);
  const found: Omit<Audit, 'acked' | 'rows' | 'fifoLeft' | 'drainSeconds'> = {
    lost: [],
    notCompleted: [],
    cacheWrong: [],
    duplicated: [],
    reprocessed: [],
  };
  const check = async (id: string): Promise<void> => {
    const [record, cached, events] = await Promise.all([
      setup.store!.get(id),
      setup.state!.getStatus(id),
      setup.store!.events(id),
    ]);
    if (record === null) return void found.lost.push(id);
    if (record.status !== 'completed') found.notCompleted.push(id);
    if (cached !== 'completed') found.cacheWrong.push(id);
    const times = (event: string): number => events.filter((e) => e.event === event).length;
    if (times('COMPLETE') !== 1) found.duplicated.push(id);
    if (times('PROCESS') !== 1) found.reprocessed.push(id);
  };
  for (let i = 0; i < ids.length; i += 64) await Promise.all(ids.slice(i, i + 64).map(check));
  const [rows, queued, inFlight] = await Promise.all([
    setup.store!.listByStatus(ALL_STATUSES),
    setup.state!.queued(),
    setup.state!.inFlight(),
  ]);
  return {
    acked: ids.length,
    ...found,
    rows: rows.length,
    fifoLeft: queued.length + inFlight.length,
    drainSeconds: seconds,
  };
}

const list = (ids: string[]): string =>
  ids.length === 0 ? '' : ` (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`;

async function main(): Promise<number> {
  const warmup = 50;
  const connections = numberArg(args, 'connections') ?? 256;
  const spec = { rate, count, warmup, nodes: Number(nodesArg), timeoutMs: 60_000, connections };
  const loader = await LoadGenerator.start(spec);
  let failures = 0;
  const lines: string[] = [];
  const breakdowns: [string, PhaseRecorder, LoadResult][] = [];
  for (const name of chosen.length === 0 ? (['embedded', 'distributed'] as const) : chosen) {
    const recorder = flags.has('breakdown') ? new PhaseRecorder() : null;
    const setup = await starts[name]({
      ...tuning,
      ...(recorder !== null && {
        wrap: recorder.wrap,
        attach: (gateway: Gateway) => recorder.attach(gateway),
      }),
    });
    try {
      const { result, loopLagP99, loopLagMax, cpuMs } = await measure(loader, setup);
      const { p50, p95, p99, max } = latencySummary(result);
      const answered = result.latencies.filter((x) => x !== null).length;
      console.log(`\n${name}: ${count} × ${nodesArg}-node DAGs at ${rate}/s`);
      console.log(
        `  sent ${(count / result.sentSeconds).toFixed(0)}/s (send lag p99 ${ms(result.sendLagP99)} ms, max ${ms(result.sendLagMax)} ms), ` +
          `answered ${(answered / result.answeredSeconds).toFixed(0)}/s (last answer at ${result.answeredSeconds.toFixed(1)} s)`,
      );
      console.log(
        `  codes: ${countBy(result.codes)}; 202 status: ${countBy(result.replyStatuses.filter((s) => s !== null))}`,
      );
      console.log(`  latency ms: p50 ${ms(p50)}, p95 ${ms(p95)}, p99 ${ms(p99)}, max ${ms(max)}`);
      console.log(`  Gateway event-loop lag ms: p99 ${ms(loopLagP99)}, max ${ms(loopLagMax)}`);
      console.log(
        `  CPU ms / request: ${[...cpuMs].map(([k, v]) => `${k} ${(v / count).toFixed(2)}`).join(' · ')}`,
      );
      const found = await audit(setup, result);
      const unacked = found.rows - found.acked - warmup;
      console.log(
        `  drained in ${found.drainSeconds.toFixed(1)} s; acked ${found.acked}; rows in DB ${found.rows} ` +
          `(= acked + ${warmup} warm-up + ${unacked} stored without a 202); FIFO + in-flight left: ${found.fifoLeft}`,
      );
      console.log(
        `  lost: ${found.lost.length}${list(found.lost)}, duplicated: ${found.duplicated.length}${list(found.duplicated)}` +
          `; not completed: ${found.notCompleted.length}${list(found.notCompleted)}` +
          `; cache not completed: ${found.cacheWrong.length}${list(found.cacheWrong)}` +
          `; PROCESS ≠ 1: ${found.reprocessed.length}${list(found.reprocessed)}`,
      );
      const ok = found.lost.length + found.duplicated.length + found.notCompleted.length === 0;
      if (!ok) failures++;
      lines.push(
        `| ${name} | ${(count / result.sentSeconds).toFixed(0)} | ${(answered / result.answeredSeconds).toFixed(0)} | ${countBy(result.codes)} | ${ms(p50)} | ${ms(p95)} | ${ms(p99)} | ${ms(loopLagP99)} | ${found.lost.length} | ${found.duplicated.length} | ${ok ? 'pass' : '**FAIL**'} |`,
      );
      if (recorder !== null) breakdowns.push([name, recorder, result]);
    } finally {
      await setup.close();
    }
  }
  loader.close();
  console.log(
    `\n| setup | sent/s | answered/s | codes | p50 ms | p95 ms | p99 ms | loop lag p99 | lost | duplicated | zero-lost |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const line of lines) console.log(line);
  for (const [name, recorder, result] of breakdowns) {
    console.log(`\nBreakdown, ${name}:`);
    recorder.print(result.ids, result.latencies);
  }
  return failures;
}

process.exitCode = (await main()) > 0 ? 1 : 0;
