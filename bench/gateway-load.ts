/**
 * The open-loop load generator of the Gateway benchmarks (`gateway-submit.ts`, `gateway-burst.ts`),
 * run in a child process that re-executes this file (role `load`): request i starts at `i / rate` s
 * whether or not earlier ones finished, and its latency runs from that scheduled start to the end of
 * the reply body. Every request is a different DAG, so the 409 dedupe never answers. `measure` runs
 * it against a setup while sampling the Gateway process's event-loop delay and every process's CPU.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { submission } from '../src/gateway/gateway.test-kit.js';
import { percentile, processCpuMs } from './gateway-figures.js';
import type { BenchSetup } from './gateway-setups.js';

/** This file: the load generator child re-executes it, and its role dispatch is at the bottom. */
const SELF = fileURLToPath(import.meta.url);
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

/** What the parent asks the load generator to prepare: `warmup + count` different DAGs. */
export interface LoadSpec {
  readonly rate: number;
  readonly count: number;
  readonly warmup: number;
  readonly nodes: number;
  /** Request timeout, ms. */
  readonly timeoutMs: number;
  /** Keep-alive connections to the Gateway at most (requests beyond wait in the client); 0 = no limit. */
  readonly connections: number;
}

/** One open-loop run as the client saw it; arrays are indexed by request. */
export interface LoadResult {
  /** ms from scheduled start to the end of the reply; null when no reply came. */
  readonly latencies: (number | null)[];
  /** HTTP status, or `error:<name>[:<cause code>]` (e.g. `error:TypeError:ECONNRESET`). */
  readonly codes: string[];
  /** `strategy_id` of each 202 (null otherwise). */
  readonly ids: (string | null)[];
  /** `status` field of each 202 body (`completed`, `queued`, …). */
  readonly replyStatuses: (string | null)[];
  /** How late the generator sent, ms (p99 and max): it must stay small for the rate to hold. */
  readonly sendLagP99: number;
  readonly sendLagMax: number;
  /** Seconds from the first scheduled start to the last send, and to the last answer. */
  readonly sentSeconds: number;
  readonly answeredSeconds: number;
}

type ToLoader = { type: 'prepare'; spec: LoadSpec } | { type: 'run'; url: string };
type FromLoader = { type: 'prepared'; ms: number } | { type: 'result'; result: LoadResult };

async function loaderMain(): Promise<void> {
  let spec: LoadSpec | null = null;
  let bodies: string[] = [];
  const send = (message: FromLoader): void => void process.send!(message);
  const prepare = async (next: LoadSpec): Promise<void> => {
    const t0 = performance.now();
    spec = next;
    if (next.connections > 0) await limitConnections(next.connections);
    bodies = Array.from({ length: next.warmup + next.count }, (_, i) =>
      JSON.stringify(submission(chainDag(next.nodes, `b${run}-${i}-`))),
    );
    send({ type: 'prepared', ms: performance.now() - t0 });
  };
  process.on('message', (message: ToLoader) => {
    if (message.type === 'prepare') void prepare(message.spec);
    else void openLoop(spec!, bodies, message.url).then((result) => send({ type: 'result', result }));
  });
  process.on('disconnect', () => process.exit(0));
  await once(process, 'disconnect');
}

/**
 * Bounds fetch's connections per origin, as a client fleet with a pool would. Without a bound,
 * fetch opens a connection per concurrent request: at 1,000/s against a slow server that is
 * thousands of connects, the listen backlog overflows, and the figures measure the kernel's SYN
 * retransmission timers instead of the Gateway. Node bundles undici without exporting it; its
 * global dispatcher lives under this symbol (undici's `setGlobalDispatcher` writes the same).
 */
async function limitConnections(connections: number): Promise<void> {
  const key = Symbol.for('undici.globalDispatcher.1');
  const global = globalThis as unknown as Record<symbol, object | undefined>;
  // The first fetch creates the default dispatcher; port 1 refuses at once.
  await fetch('http://127.0.0.1:1').catch(() => undefined);
  const Agent = global[key]!.constructor as new (options: { connections: number }) => object;
  global[key] = new Agent({ connections });
}

async function post(url: string, body: string, timeoutMs: number): Promise<{ code: string; json: unknown }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { code: String(response.status), json: text === '' ? null : (JSON.parse(text) as unknown) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { code: `error:${(error as Error).name}${cause === undefined ? '' : `:${cause}`}`, json: null };
  }
}

async function openLoop(spec: LoadSpec, bodies: string[], url: string): Promise<LoadResult> {
  for (let i = 0; i < spec.warmup; i++) await post(url, bodies[i]!, spec.timeoutMs);
  const n = spec.count;
  const result = {
    latencies: new Array<number | null>(n).fill(null),
    codes: new Array<string>(n).fill('unsent'),
    ids: new Array<string | null>(n).fill(null),
    replyStatuses: new Array<string | null>(n).fill(null),
  };
  const lags: number[] = [];
  const start = performance.now() + 20;
  let lastSend = start;
  let lastAnswer = start;
  const pending: Promise<void>[] = [];
  const fire = (i: number, scheduled: number): void => {
    lags.push((lastSend = performance.now()) - scheduled);
    pending.push(
      post(url, bodies[spec.warmup + i]!, spec.timeoutMs).then(({ code, json }) => {
        lastAnswer = performance.now();
        result.codes[i] = code;
        if (!code.startsWith('error')) result.latencies[i] = lastAnswer - scheduled;
        const reply = json as { strategy_id?: string; status?: string } | null;
        if (code === '202') {
          result.ids[i] = reply?.strategy_id ?? null;
          result.replyStatuses[i] = reply?.status ?? null;
        }
      }),
    );
  };
  for (let next = 0; next < n;) {
    const wait = start + (next * 1000) / spec.rate - performance.now();
    if (wait > 0.5) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = performance.now();
    // Fire everything due (a late timer sends the backlog at once, keeping the arrival rate).
    for (; next < n && start + (next * 1000) / spec.rate <= now + 0.5; next++)
      fire(next, start + (next * 1000) / spec.rate);
  }
  await Promise.all(pending);
  lags.sort((a, b) => a - b);
  return {
    ...result,
    sendLagP99: percentile(lags, 0.99),
    sendLagMax: lags.at(-1) ?? 0,
    sentSeconds: (lastSend - start) / 1000,
    answeredSeconds: (lastAnswer - start) / 1000,
  };
}

/** The load generator process; `prepare` builds the bodies, `run` fires them at a URL. */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  /** The child's pid, for its CPU time. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Forks the generator and has it build the `warmup + count` request bodies. */
  static async start(spec: LoadSpec): Promise<LoadGenerator> {
    const child = fork(SELF, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, QMTL_BENCH_ROLE: 'load' },
    });
    const generator = new LoadGenerator(child);
    child.send({ type: 'prepare', spec } satisfies ToLoader);
    const [prepared] = (await once(child, 'message')) as [FromLoader];
    if (prepared.type === 'prepared')
      console.log(
        `(${spec.warmup + spec.count} request bodies built in ${(prepared.ms / 1000).toFixed(1)} s)`,
      );
    return generator;
  }

  /** Sends the warm-up requests one by one, then the open loop; resolves when every reply is in. */
  async run(url: string): Promise<LoadResult> {
    this.child.send({ type: 'run', url } satisfies ToLoader);
    const [message] = (await once(this.child, 'message')) as [FromLoader];
    if (message.type !== 'result') throw new Error('load generator answered out of turn');
    return message.result;
  }

  /** Lets the child exit. */
  close(): void {
    this.child.disconnect();
  }
}

// ---------------------------------------------------------------- measurement

/** CPU ms so far per component: this process (the Gateway), the setup's other processes, the load generator. */
async function cpuSnapshot(setup: BenchSetup, loader: LoadGenerator): Promise<Map<string, number>> {
  const usage = process.cpuUsage();
  const snapshot = new Map<string, number>([['Gateway process', (usage.user + usage.system) / 1000]]);
  for (const [name, pids] of Object.entries(await setup.processes()))
    snapshot.set(
      name,
      pids.reduce((sum, pid) => sum + processCpuMs(pid), 0),
    );
  snapshot.set('load generator', processCpuMs(loader.pid));
  return snapshot;
}

/** Runs the load against a setup while sampling the Gateway process's event-loop delay and CPU. */
export async function measure(
  loader: LoadGenerator,
  setup: BenchSetup,
): Promise<{ result: LoadResult; loopLagP99: number; loopLagMax: number; cpuMs: Map<string, number> }> {
  const before = await cpuSnapshot(setup, loader);
  // The histogram records timer intervals (resolution + lag): the resolution is taken off.
  const resolution = 2;
  const histogram = monitorEventLoopDelay({ resolution });
  histogram.enable();
  const result = await loader.run(setup.url);
  histogram.disable();
  const lag = (ns: number): number => Math.max(0, ns / 1e6 - resolution);
  const after = await cpuSnapshot(setup, loader);
  const cpuMs = new Map([...after].map(([name, value]) => [name, value - (before.get(name) ?? 0)]));
  return { result, loopLagP99: lag(histogram.percentile(99)), loopLagMax: lag(histogram.max), cpuMs };
}

// The load generator child of `LoadGenerator.start` runs this file with this role.
if (process.env['QMTL_BENCH_ROLE'] === 'load') await loaderMain();
