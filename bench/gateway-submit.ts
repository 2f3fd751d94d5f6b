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
 * submission in the Gateway process (adapters wrapped in timing proxies).
 *   node --import tsx bench/gateway-submit.ts [rate=50] [seconds=20] [nodes=100] [breakdown]
 *     [baseline|embedded|distributed …]   (default: all three)
 *     [connections=256]   (fetch keep-alive connections at most; 0 = one per concurrent request)
 *     [workers=N] [pool=N]   (tuning knobs, not the defaults)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fastify } from 'fastify';
import { chainDag } from '../src/dagmanager/dag.test-kit.js';
import { startGrpcServer } from '../src/dagmanager/grpc-server.js';
import { createGateway, type Gateway, type GatewayOptions } from '../src/gateway/create-gateway.js';
import type { DagClient } from '../src/gateway/dag-client.js';
import { EmbeddedDagClient } from '../src/gateway/embedded-dag-client.js';
import { memoryDagManager, submission } from '../src/gateway/gateway.test-kit.js';
import { MemoryStateStore } from '../src/gateway/state/memory-state-store.js';
import type { StateStore } from '../src/gateway/state/state-store.js';
import type { StrategyStore } from '../src/gateway/store/strategy-store.js';

export const POSTGRES_DSN = 'postgresql://postgres@127.0.0.1:5432/qmtl';
export const REDIS_DSN = 'redis://127.0.0.1:6379';
const SELF = fileURLToPath(import.meta.url);
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

// ---------------------------------------------------------------- load generator (child process)

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

  get pid(): number {
    return this.child.pid!;
  }

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

  async run(url: string): Promise<LoadResult> {
    this.child.send({ type: 'run', url } satisfies ToLoader);
    const [message] = (await once(this.child, 'message')) as [FromLoader];
    if (message.type !== 'result') throw new Error('load generator answered out of turn');
    return message.result;
  }

  close(): void {
    this.child.disconnect();
  }
}

// ---------------------------------------------------------------- setups

/** A Gateway listening on 127.0.0.1, with its (unwrapped) adapters for checks. */
export interface BenchSetup {
  readonly name: string;
  readonly url: string;
  readonly gateway: Gateway | null;
  readonly store: StrategyStore | null;
  readonly state: StateStore | null;
  /** Other processes whose CPU is counted, by component (the gRPC DAG Manager, our PostgreSQL backends). */
  processes(): Promise<Record<string, number[]>>;
  close(): Promise<void>;
}

/** How a setup is built: Gateway options, and a hook that may wrap the adapters (breakdown). */
export interface SetupOptions {
  readonly gateway?: GatewayOptions;
  readonly wrap?: <T extends object>(prefix: string, target: T) => T;
  /** Runs on the Gateway before it listens (hooks can only be added then). */
  readonly attach?: (gateway: Gateway) => void;
  /** PostgreSQL pool size (distributed). Default: the store's (10). */
  readonly poolSize?: number;
}

const BENCH_GATEWAY: GatewayOptions = { cpuPercent: () => 0 };

async function listening(
  name: string,
  adapters: { store: StrategyStore; state: StateStore; dagClient: DagClient; stateIsRemote: boolean },
  options: SetupOptions,
  cleanup: () => Promise<void>,
  processes: () => Promise<Record<string, number[]>> = () => Promise.resolve({}),
): Promise<BenchSetup> {
  const wrap = options.wrap ?? (<T extends object>(_: string, target: T): T => target);
  const { store } = adapters;
  let gateway: Gateway | null = null;
  try {
    gateway = await createGateway(
      {
        store: wrap('store', store),
        state: wrap('state', adapters.state),
        dagClient: wrap('dag', adapters.dagClient),
        stateIsRemote: adapters.stateIsRemote,
      },
      { ...BENCH_GATEWAY, ...options.gateway },
    );
    options.attach?.(gateway);
    const port = await gateway.listen('127.0.0.1', 0);
    const running = gateway;
    return {
      name,
      url: `http://127.0.0.1:${port}/strategies`,
      gateway,
      store: adapters.store,
      state: adapters.state,
      processes,
      close: async () => {
        await running.close();
        await cleanup();
      },
    };
  } catch (error) {
    // Nothing may be left behind: the temp dir, the schema, the Redis keys, the child.
    const { store: s, state, dagClient } = adapters;
    await (gateway?.close() ?? Promise.allSettled([s.close(), state.close(), dagClient.close()]));
    await cleanup();
    throw error;
  }
}

/** A bare Fastify route that answers 202 at once: the cost of HTTP alone. */
export async function startBaseline(): Promise<BenchSetup> {
  const app = fastify({ logger: false, bodyLimit: 1_048_576 });
  app.post('/strategies', (_request, reply) => reply.status(202).send({ status: 'accepted' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/strategies`;
  return {
    name: 'baseline',
    url,
    gateway: null,
    store: null,
    state: null,
    processes: () => Promise.resolve({}),
    close: () => app.close(),
  };
}

/** SQLite in a temp dir + MemoryStateStore + an in-process DAG Manager (memory adapters). */
export async function startEmbedded(options: SetupOptions = {}): Promise<BenchSetup> {
  const { SqliteStrategyStore } = await import('../src/gateway/store/sqlite-strategy-store.js');
  const dir = await mkdtemp(join(tmpdir(), 'qmtl-bench-'));
  const store = await SqliteStrategyStore.open(join(dir, 'gateway.db'));
  const dagClient = new EmbeddedDagClient(memoryDagManager());
  return listening(
    'embedded',
    { store, state: new MemoryStateStore(), dagClient, stateIsRemote: false },
    options,
    () => rm(dir, { recursive: true, force: true }),
  );
}

/** PostgreSQL (fresh schema) + Redis (unique key prefix) + the DAG Manager over gRPC in a child. */
export async function startDistributed(options: SetupOptions = {}): Promise<BenchSetup> {
  const [{ PostgresStrategyStore }, { RedisStateStore }, { GrpcDagClient }, { default: pg }] =
    await Promise.all([
      import('../src/gateway/store/postgres-strategy-store.js'),
      import('../src/gateway/state/redis-state-store.js'),
      import('../src/gateway/grpc-dag-client.js'),
      import('pg'),
    ]);
  const schema = `qmtl_bench_${run}`;
  const keyPrefix = `qmtl-bench:${run}:`;
  const sql = async (text: string): Promise<unknown[]> => {
    const client = new pg.Client(POSTGRES_DSN);
    await client.connect();
    const { rows } = await client.query<Record<string, unknown>>(text).finally(() => client.end());
    return rows;
  };
  await sql(`CREATE SCHEMA ${schema}`);
  const dsn =
    `${POSTGRES_DSN}?application_name=${schema}` +
    `&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const store = await PostgresStrategyStore.connect(dsn, {
    ...(options.poolSize !== undefined && { poolSize: options.poolSize }),
  });
  const state = await RedisStateStore.connect(REDIS_DSN, { keyPrefix });
  const dagManager = fork(SELF, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, QMTL_BENCH_ROLE: 'dagmanager' },
  });
  const [grpcPort] = (await once(dagManager, 'message')) as [number];
  const dagClient = GrpcDagClient.connect(`127.0.0.1:${grpcPort}`);
  const cleanup = async (): Promise<void> => {
    dagManager.disconnect();
    // Other users restart the shared servers now and then: a failed cleanup only warns.
    await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((e: unknown) => warn('schema', e));
    await deleteRedisKeys(keyPrefix).catch((e: unknown) => warn('Redis keys', e));
  };
  const adapters = { store, state, dagClient, stateIsRemote: true };
  const processes = async (): Promise<Record<string, number[]>> => ({
    'DAG Manager (gRPC)': [dagManager.pid!],
    'PostgreSQL (our backends)': (
      (await sql(`SELECT pid FROM pg_stat_activity WHERE application_name = '${schema}'`)) as {
        pid: number;
      }[]
    ).map((row) => row.pid),
    'Redis server (shared with other users)': pidsNamed('redis-server'),
  });
  return listening('distributed', adapters, options, cleanup, processes);
}

function warn(what: string, error: unknown): void {
  console.warn(`(cleanup of the ${what} failed: ${(error as Error).message})`);
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const { createClient } = await import('redis');
  const client = createClient({ url: REDIS_DSN });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
    if (keys.length > 0) await client.unlink(keys);
  await client.close();
}

async function dagManagerMain(): Promise<void> {
  const server = await startGrpcServer(memoryDagManager(), { host: '127.0.0.1', port: 0 });
  process.send!(server.port);
  await once(process, 'disconnect');
  await server.close(1_000);
  process.exit(0);
}

// ---------------------------------------------------------------- figures

/** The `p` quantile (0–1) of ascending values, NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Milliseconds for a table: two decimals under 10, one above. */
export const ms = (x: number): string => (Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));

/** p50 / p95 / p99 / max of the answered requests. */
export function latencySummary(result: LoadResult): { p50: number; p95: number; p99: number; max: number } {
  const sorted = result.latencies.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? NaN,
  };
}

/** `value: count` pairs in first-seen order, e.g. `202: 998, error:TypeError:ECONNRESET: 2`. */
export function countBy(values: readonly (string | null)[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return [...counts].map(([key, count]) => `${key}: ${count}`).join(', ');
}

/** CPU ms used so far by a process (/proc/PID/stat utime + stime; 100 ticks/s). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Pids of the processes named `comm`. */
function pidsNamed(comm: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => {
      try {
        return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm;
      } catch {
        return false; // it ended between the listing and the read
      }
    })
    .map(Number);
}

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

// ---------------------------------------------------------------- breakdown

/** Per-submission phases: from one timing mark to another (`>` call start, `<` call end). */
const PHASES: readonly (readonly [string, string, string])[] = [
  ['validate + sentinel (until the insert starts)', 'submit>', 'store.insert>'],
  ['store.insert (INIT tx)', 'store.insert>', 'store.insert<'],
  ['state.setStatus(queued)', 'state.setStatus:queued>', 'state.setStatus:queued<'],
  ['state.enqueue', 'state.enqueue>', 'state.enqueue<'],
  ['worker wake-up (enqueued → claimed)', 'state.enqueue<', 'state.claim<'],
  ['state.acquireLock', 'state.acquireLock>', 'state.acquireLock<'],
  ['store.get (worker)', 'store.get>', 'store.get<'],
  ['PROCESS (get + tx + cache)', 'store.get<', 'state.setStatus:processing<'],
  ['dagClient.diff', 'dag.diff>', 'dag.diff<'],
  ['COMPLETE (toStoredDiff + get + tx with the diff + cache)', 'dag.diff<', 'state.setStatus:completed<'],
  ['  of which store.transition(COMPLETE)', 'store.transition:COMPLETE>', 'store.transition:COMPLETE<'],
  ['settle → submit() resolves', 'state.setStatus:completed<', 'submit<'],
  ['intake.submit total', 'submit>', 'submit<'],
];

/**
 * Times every adapter call of a Gateway (a Proxy per adapter) and every `intake.submit`, keyed by
 * strategy id, to split a submission into phases. Adds a few µs per call.
 */
export class PhaseRecorder {
  private readonly marks = new Map<string, Map<string, number>>();
  private readonly calls = new Map<string, number[]>();
  private readonly http = { parse: [] as number[], server: [] as number[] };

  readonly wrap = <T extends object>(prefix: string, target: T): T =>
    new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]): unknown => {
          const t0 = performance.now();
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          if (!(out instanceof Promise)) return out;
          return out.then((resolved: unknown) => {
            this.record(prefix, property, args, resolved, t0, performance.now());
            return resolved;
          });
        };
      },
    });

  /** Wraps the Gateway's intake and adds HTTP hooks (before `listen`). */
  attach(gateway: Gateway): void {
    const submit = gateway.intake.submit.bind(gateway.intake);
    gateway.intake.submit = async (body) => {
      const t0 = performance.now();
      const reply = await submit(body);
      this.mark(reply.strategy_id, 'submit>', t0);
      this.mark(reply.strategy_id, 'submit<', performance.now());
      return reply;
    };
    const started = new WeakMap<object, number>();
    // Callback-style hooks: an async hook without an await is a lint error.
    gateway.app.addHook('onRequest', (request, _reply, done) => {
      started.set(request, performance.now());
      done();
    });
    gateway.app.addHook('preHandler', (request, _reply, done) => {
      this.http.parse.push(performance.now() - (started.get(request) ?? NaN));
      done();
    });
    gateway.app.addHook('onResponse', (request, _reply, done) => {
      this.http.server.push(performance.now() - (started.get(request) ?? NaN));
      done();
    });
  }

  private record(
    prefix: string,
    method: string,
    args: unknown[],
    out: unknown,
    t0: number,
    t1: number,
  ): void {
    let label = `${prefix}.${method}`;
    if (method === 'setStatus') label += `:${String(args[1])}`;
    if (method === 'transition' && prefix === 'store') label += `:${String(args[3])}`;
    const calls = this.calls.get(label) ?? [];
    calls.push(t1 - t0);
    this.calls.set(label, calls);
    const id = method === 'claim' ? out : method === 'insert' ? (args[0] as { id: string }).id : args[0];
    if (typeof id !== 'string') return;
    this.mark(id, `${label}>`, t0);
    this.mark(id, `${label}<`, t1);
  }

  private mark(id: string, label: string, t: number): void {
    const marks = this.marks.get(id) ?? new Map<string, number>();
    this.marks.set(id, marks);
    if (!marks.has(label)) marks.set(label, t);
  }

  /** Prints p50/p95 of every phase over `ids`, and of every adapter call. */
  print(ids: readonly (string | null)[], latencies: readonly (number | null)[]): void {
    const row = (name: string, values: number[]): void => {
      values.sort((a, b) => a - b);
      const [p50, p95, p99] = [0.5, 0.95, 0.99].map((p) => ms(percentile(values, p)));
      console.log(`| ${name} | ${values.length} | ${p50} | ${p95} | ${p99} | ${ms(values.at(-1) ?? NaN)} |`);
    };
    console.log(
      '| phase (Gateway process) | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|',
    );
    row('HTTP: onRequest → preHandler (body read + JSON parse)', [...this.http.parse]);
    for (const [name, from, to] of PHASES) {
      const values: number[] = [];
      for (const id of ids) {
        const marks = id === null ? undefined : this.marks.get(id);
        const a = marks?.get(from);
        const b = marks?.get(to);
        if (a !== undefined && b !== undefined) values.push(b - a);
      }
      row(name, values);
    }
    row('HTTP: onRequest → onResponse (server total)', [...this.http.server]);
    const outside: number[] = [];
    ids.forEach((id, i) => {
      const marks = id === null ? undefined : this.marks.get(id);
      const latency = latencies[i];
      const a = marks?.get('submit>');
      const b = marks?.get('submit<');
      if (a !== undefined && b !== undefined && latency != null) outside.push(latency - (b - a));
    });
    row('client latency − intake.submit (HTTP, client, scheduling)', outside);
    console.log('\n| adapter call | calls | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|');
    for (const [label, values] of [...this.calls].sort(([a], [b]) => a.localeCompare(b))) row(label, values);
  }
}

// ---------------------------------------------------------------- main

/** The value of a `name=N` argument, or undefined. */
export function numberArg(args: readonly string[], name: string): number | undefined {
  const arg = args.find((a) => a.startsWith(`${name}=`));
  return arg === undefined ? undefined : Number(arg.slice(name.length + 1));
}

/**
 * The knobs named on the command line (`workers=N`: the Gateway's worker concurrency, `pool=N`:
 * the PostgreSQL pool size), announced when any is set.
 */
export function tuningFrom(args: readonly string[]): SetupOptions {
  const setting = (name: string): number | undefined => numberArg(args, name);
  const workers = setting('workers');
  const poolSize = setting('pool');
  const changes = [
    ...(workers === undefined ? [] : [`workers=${workers}`]),
    ...(poolSize === undefined ? [] : [`pool=${poolSize}`]),
  ];
  if (changes.length > 0) console.log(`tuning: ${changes.join(', ')} (not the defaults)`);
  return {
    ...(poolSize !== undefined && { poolSize }),
    ...(workers !== undefined && { gateway: { workerConcurrency: workers } }),
  };
}

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

const role = process.env['QMTL_BENCH_ROLE'];
if (role === 'load') await loaderMain();
else if (role === 'dagmanager') await dagManagerMain();
else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main();
