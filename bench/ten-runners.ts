/**
 * Ten Runner processes sharing one 5-node chain, against one Runner alone: the CPU time (user +
 * sys) of `qmtl run --mode dryrun` processes on a real Gateway, DAG Manager and topic bus.
 *   node --import tsx bench/ten-runners.ts [bus=redis|kafka|redis,kafka] [bars=2000] [runs=3] [processes=10]
 * Needs `npm run build` (it runs dist/cli/main.js) and `bash .ci/servers.sh start redis kafka`.
 * `BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` passes Node flags to every child process.
 * `BENCH_CHAIN_WORK=N` adds N rounds of arithmetic per bucket to the chain's first node (a costly chain).
 * The generated strategy and CPU preload are in `ten-runners-strategy.ts`.
 *
 * Every process runs the same chain — StreamInput (ReplayFeed over a MemoryHistoryProvider) →
 * SMA(20) → z-score(50) → WMA(30) → slope(20) — plus a leaf of its own (`params: { id: k }`), so
 * each submits a different DAG that shares the chain's five NodeIDs.
 * - 1 process: alone over `bars` live bars, it computes and publishes the chain.
 * - shared: process 0 is submitted first and becomes the producer; its feed is held until the
 *   other nine have submitted (they are consumers then) and, run without --end-time, it stays up
 *   until they have exited, so no consumer sees its producer leave (no claim, no take-over). The
 *   nine read the chain's last node from its topic and compute only their leaf.
 * Each process prints `process.cpuUsage()` on exit (a `--import` preload), and the strategy notes
 * the CPU used when it was loaded and when its leaf saw the first and the last live bar: the
 * stages start-up (Node, the CLI and the strategy imported), connect (submission, topic bus
 * client, /ws, warm-up), live bars, end (stop at the Gateway, flush, summary, exit). Each phase
 * has its own stream tag and code hashes, hence fresh NodeIDs, topics and consumer groups; its
 * topics are deleted at the end. Checked: only the producer computed the chain, and every consumer
 * received `bars` outputs and its leaf emitted `bars`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { servers } from '../tests/support/servers.js';
import {
  dagManagerConfig,
  gatewayConfig,
  killServiceProcesses,
  qmtlBin,
  startGateway,
  startService,
  type ServiceProcess,
} from '../tests/support/service-process.js';
import { processCpuMs } from './gateway-figures.js';
import { CPU_MARK, CPU_PRELOAD, strategySource } from './ten-runners-strategy.js';

type Bus = 'redis' | 'kafka';
const buses = (process.argv[2] ?? 'redis').split(',') as Bus[];
if (!buses.every((bus) => bus === 'redis' || bus === 'kafka'))
  throw new Error(`bus must be redis, kafka or redis,kafka; got "${process.argv[2]}"`);
const bars = Number(process.argv[3] ?? 2000);
const runs = Number(process.argv[4] ?? 3);
const PROCESSES = Number(process.argv[5] ?? 10);
const INTERVAL = 60;
const T0 = 1_704_067_200;
/** History before the live start: more than the chain's warm-up (20 + 50 + 30 + 20 bars). */
const WARMUP_BARS = 200;
const LIVE_START = T0 + WARMUP_BARS * INTERVAL;
const LIVE_END = LIVE_START + (bars - 1) * INTERVAL;
/** The chain's computed nodes (a StreamInput is never computed). */
const CHAIN = ['sma20', 'zscore50', 'wma30', 'slope20'];
const distDir = path.resolve(qmtlBin, '..', '..');

/** The part of `qmtl run --json` checked here. */
interface Summary {
  nodeStats: { name: string; computeCalls: number }[];
  outputs: { name: string; length: number }[];
  topics?: { produced: Record<string, string> };
  published?: number;
  received?: number;
}

/** CPU ms of an exited process: in all, and when the strategy was loaded and saw its first and last live bar. */
interface Finished {
  readonly cpuMs: number;
  readonly marks: { loaded?: number; firstBar?: number; lastBar?: number };
  readonly summary: Summary | null;
}

/** A child process with the CPU preload; its output is kept (info logs on stderr, JSON on stdout). */
interface Child {
  readonly stderr: () => string;
  readonly signal: (name: NodeJS.Signals) => void;
  readonly finished: Promise<Finished>;
}

const children = new Set<ChildProcess>();

function startChild(dir: string, args: readonly string[], env: Record<string, string> = {}): Child {
  const preload = pathToFileURL(path.join(dir, 'cpu-preload.mjs')).href;
  const flags = process.env['BENCH_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, '--import', preload, qmtlBin, ...args], {
    cwd: dir,
    env: { ...process.env, QMTL_LOG_LEVEL: 'info', ...env },
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-100_000)));
  const finished = new Promise<Finished>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      const mark = stderr.lastIndexOf(CPU_MARK);
      if (code !== 0 || mark < 0) {
        reject(new Error(`qmtl ${args.join(' ')} failed (${code ?? signal}):\n${stdout}\n${stderr}`));
        return;
      }
      const line = stderr.slice(mark + CPU_MARK.length).split('\n')[0]!;
      const cpu = JSON.parse(line) as { user: number; system: number; marks: Finished['marks'] };
      const json = stdout.split('\n')[0]!;
      resolve({
        cpuMs: (cpu.user + cpu.system) / 1000,
        marks: cpu.marks,
        summary: json.startsWith('{') ? (JSON.parse(json) as Summary) : null,
      });
    }),
  );
  finished.catch(() => undefined);
  return { stderr: () => stderr, signal: (name) => child.kill(name), finished };
}

/** Resolves once `child` has logged `line`; rejects if it exits first or after 60 s. */
async function logged(child: Child, line: string, what: string): Promise<void> {
  let exited = false;
  void child.finished.catch(() => undefined).finally(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!child.stderr().includes(line)) {
    if (exited || Date.now() > deadline)
      throw new Error(`${what}: no "${line}" in its output:\n${child.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The Gateway and DAG Manager of one bus, as separate processes (as in the e2e test). */
interface Services {
  readonly gatewayUrl: string;
  readonly busDsn: string;
  readonly processes: readonly ServiceProcess[];
}

async function startServices(dir: string, bus: Bus): Promise<Services> {
  const dagConfig = path.join(dir, `dagmgr-${bus}.yml`);
  const queues = bus === 'kafka' ? { queue_backend: 'kafka', kafka_dsn: servers.kafka.address } : {};
  writeFileSync(
    dagConfig,
    stringify({ dagmanager: { ...dagManagerConfig(path.join(dir, bus)), ...queues } }),
  );
  const dagManager = await startService(['dagmgr-server', '--config', dagConfig], {
    cwd: dir,
    ready: /gRPC ([\d.]+:\d+), HTTP/,
  });
  const gwConfig = path.join(dir, `gateway-${bus}.yml`);
  // Checked once at start only: ten Runners starting on 2 cores push the host's CPU over 95 %, and
  // the Gateway's CPU-based load shedding would refuse their submissions (204, retry after 30 s).
  const gateway = gatewayConfig({ dagmanager_url: dagManager.ready[1], degradation_check_interval: 86_400 });
  writeFileSync(gwConfig, stringify({ gateway }));
  const gatewayProcess = await startGateway(gwConfig, dir);
  const busDsn = bus === 'kafka' ? `kafka://${servers.kafka.address}` : `redis://${servers.redis.address}/9`;
  return { gatewayUrl: gatewayProcess.url, busDsn, processes: [dagManager, gatewayProcess] };
}

/** `qmtl run` of the bench strategy with leaf `leaf` on stream tag `tag`. */
function startRunner(dir: string, services: Services, tag: string, leaf: number, producer = false): Child {
  const args = ['run', `strategy-${tag}.mjs:Bench`, '--mode', 'dryrun', '--json'];
  args.push('--gateway-url', services.gatewayUrl, '--bus-dsn', services.busDsn);
  args.push('--start-time', String(LIVE_START));
  // The held producer ends when its feed does (after the last bar and the second SIGUSR2).
  if (!producer) args.push('--end-time', String(LIVE_END));
  return startChild(dir, args, {
    BENCH_LEAF: String(leaf),
    ...(producer && { BENCH_GATED: '1' }),
  });
}

/** One phase's figures: CPU per Runner process (producer first) and of the services meanwhile. */
interface Phase {
  readonly runners: readonly Finished[];
  readonly servicesMs: number;
}

async function withServiceCpu(services: Services, phase: () => Promise<Finished[]>): Promise<Phase> {
  const cpu = (): number => services.processes.reduce((sum, p) => sum + processCpuMs(p.child.pid!), 0);
  const before = cpu();
  const runners = await phase();
  return { runners, servicesMs: cpu() - before };
}

async function single(dir: string, services: Services, tag: string): Promise<Phase> {
  return withServiceCpu(services, async () => [await startRunner(dir, services, tag, 0).finished]);
}

async function shared(dir: string, services: Services, tag: string): Promise<Phase> {
  return withServiceCpu(services, async () => {
    const producer = startRunner(dir, services, tag, 0, true);
    await logged(producer, 'warmed up from history', 'the producer');
    const consumers = Array.from({ length: PROCESSES - 1 }, (_, k) => startRunner(dir, services, tag, k + 1));
    for (const consumer of consumers) await logged(consumer, 'gateway /ws: connected', 'a consumer');
    producer.signal('SIGUSR2');
    const producerGone = producer.finished.then(() => {
      throw new Error('the producer exited before its consumers');
    });
    const finished = await Promise.race([Promise.all(consumers.map((c) => c.finished)), producerGone]);
    producer.signal('SIGUSR2');
    return [await producer.finished, ...finished];
  });
}

/** Checks that only the producer (process 0) computed the chain and that every leaf saw every bar. */
function check(phase: Phase): string[] {
  const problems: string[] = [];
  for (const [k, { summary }] of phase.runners.entries()) {
    if (summary === null) {
      problems.push(`process ${k}: no JSON summary`);
      continue;
    }
    const chainCalls = summary.nodeStats.filter((s) => CHAIN.includes(s.name)).map((s) => s.computeCalls);
    if (chainCalls.some((calls) => calls > 0) !== (k === 0))
      problems.push(`process ${k}: chain compute calls ${chainCalls.join(', ')}`);
    // The producer's leaf also has the outputs of its warm-up (consumers are not warmed up).
    const outputs = summary.outputs.find((o) => o.name === `leaf_${k}`)?.length ?? 0;
    if (k === 0 ? outputs < bars : outputs !== bars)
      problems.push(`process ${k}: leaf has ${outputs} outputs, not ${bars}`);
    if (k > 0 && summary.received !== bars)
      problems.push(`process ${k}: received ${summary.received} messages, not ${bars}`);
  }
  return problems;
}

const total = (phase: Phase): number => phase.runners.reduce((sum, r) => sum + r.cpuMs, 0);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
/** The run whose total CPU is the median one. */
const medianRun = (phases: Phase[]): Phase =>
  [...phases].sort((a, b) => total(a) - total(b))[Math.floor(phases.length / 2)]!;

/** CPU of a process that starts Node, imports the CLI and exits: `qmtl --version`. */
async function idleCpuMs(dir: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push((await startChild(dir, ['--version']).finished).cpuMs);
  return median(samples);
}

async function benchBus(dir: string, bus: Bus, idleMs: number): Promise<void> {
  const services = await startServices(dir, bus);
  const singleRuns: Phase[] = [];
  const sharedRuns: Phase[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const tag = `${bus}-${Date.now().toString(36)}-${r}`;
      for (const phase of ['single', 'shared'])
        writeFileSync(
          path.join(dir, `strategy-${tag}-${phase}.mjs`),
          strategySource({
            sdkModule: path.join(distDir, 'sdk', 'index.js'),
            tag: `${tag}-${phase}`,
            start: T0,
            interval: INTERVAL,
            historyBars: WARMUP_BARS + bars,
            liveStart: LIVE_START,
            liveEnd: LIVE_END,
          }),
        );
      singleRuns.push(await single(dir, services, `${tag}-single`));
      sharedRuns.push(await shared(dir, services, `${tag}-shared`));
    }
  } finally {
    for (const service of services.processes) service.child.kill('SIGTERM');
    await Promise.all(services.processes.map((p) => p.exited));
    await deleteTopics(bus, services.busDsn, [...singleRuns, ...sharedRuns]).catch((error: unknown) =>
      console.warn(`could not delete the bench's topics: ${String(error)}`),
    );
  }
  const problems = [...singleRuns, ...sharedRuns].flatMap(check);
  report(bus, idleMs, singleRuns, sharedRuns, problems);
}

/** Deletes the topics the phases published to (their summaries name them), so the bus does not fill up. */
async function deleteTopics(bus: Bus, busDsn: string, phases: readonly Phase[]): Promise<void> {
  const topics = [
    ...new Set(
      phases.flatMap((p) => p.runners.flatMap((r) => Object.values(r.summary?.topics?.produced ?? {}))),
    ),
  ];
  if (topics.length === 0) return;
  if (bus === 'redis') {
    const { createClient } = await import('redis');
    const client = await createClient({ url: busDsn }).connect();
    await client.del(topics.map((topic) => `topic:${topic}`));
    await client.quit();
  } else {
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({ clientId: 'qmtl-bench', bootstrapBrokers: [servers.kafka.address] });
    await admin.deleteTopics({ topics });
    await admin.close();
  }
}

/** CPU ms of one process by stage: start-up, submit + connect (+ warm-up), live bars, end. */
function stages(runner: Finished): number[] {
  const { loaded = NaN, firstBar = NaN, lastBar = NaN } = runner.marks;
  return [loaded, firstBar - loaded, lastBar - firstBar, runner.cpuMs - lastBar, runner.cpuMs];
}

function row(label: string, cells: readonly number[], note = ''): string {
  return `  ${label.padEnd(26)}${cells.map((x) => fmt(x).padStart(10)).join('')}${note}`;
}

function report(
  bus: Bus,
  idleMs: number,
  singleRuns: Phase[],
  sharedRuns: Phase[],
  problems: string[],
): void {
  const one = medianRun(singleRuns);
  const all = medianRun(sharedRuns);
  const runsOf = (phases: Phase[]): string => `  (runs: ${phases.map((p) => fmt(total(p))).join(' · ')})`;
  const consumers = all.runners.slice(1).map(stages);
  const sums = stages(all.runners[0]!).map((x, i) => x + consumers.reduce((sum, c) => sum + c[i]!, 0));
  console.log(
    `${PROCESSES} Runner processes sharing a 5-node chain over ${bus}: ${fmt(bars)} live bars; CPU ms (user + sys), the run with the median total of ${runs} alternating runs`,
  );
  console.log(`  ${''.padEnd(26)}  start-up   connect  live bars       end     total`);
  console.log(row('idle (qmtl --version)', [idleMs]));
  console.log(row('1 process', stages(one.runners[0]!), runsOf(singleRuns)));
  console.log(row(`${PROCESSES}: producer`, stages(all.runners[0]!)));
  const medianConsumer = [0, 1, 2, 3, 4].map((i) => median(consumers.map((c) => c[i]!)));
  console.log(row(`${PROCESSES}: consumer (median)`, medianConsumer));
  console.log(row(`${PROCESSES}: all`, sums, runsOf(sharedRuns)));
  const ratio = total(all) / total(one);
  const net = (total(all) - PROCESSES * idleMs) / (total(one) - idleMs);
  const live = sums[2]! / stages(one.runners[0]!)[2]!;
  console.log(
    `  ratio ${PROCESSES} / 1: ${ratio.toFixed(2)}x (target ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'not met'}); without the idle process's cost: ${net.toFixed(2)}x; live bars only: ${live.toFixed(2)}x`,
  );
  printNotes(singleRuns, all, sharedRuns, problems);
}

function printNotes(singleRuns: Phase[], all: Phase, sharedRuns: Phase[], problems: string[]): void {
  const published = (k: number): string => fmt(all.runners[k]?.summary?.published ?? NaN);
  console.log(
    `  messages: the producer published ${published(0)}; each consumer received ${fmt(bars)} and published ${published(1)}`,
  );
  const servicesMs = (phases: Phase[]): string => fmt(median(phases.map((p) => p.servicesMs)));
  console.log(
    `  Gateway + DAG Manager meanwhile: ${servicesMs(singleRuns)} ms (1 process), ${servicesMs(sharedRuns)} ms (${PROCESSES})`,
  );
  console.log(
    problems.length === 0
      ? `  checks: only the producer computed the chain; every consumer received ${fmt(bars)} and its leaf has ${fmt(bars)} outputs`
      : `  CHECKS FAILED:\n    ${problems.join('\n    ')}`,
  );
  if (problems.length > 0) process.exitCode = 1;
}

const dir = mkdtempSync(path.join(tmpdir(), 'qmtl-bench-ten-runners-'));
/** Kills every child still running (Runners, Gateway, DAG Manager) and removes the temp dir. */
const cleanUp = (): void => {
  for (const child of children) child.kill('SIGKILL');
  killServiceProcesses();
  rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
try {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(dir, 'cpu-preload.mjs'), CPU_PRELOAD);
  const idleMs = await idleCpuMs(dir);
  for (const bus of buses) await benchBus(dir, bus, idleMs);
} finally {
  cleanUp();
}
