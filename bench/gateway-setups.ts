/**
 * The setups the Gateway benchmarks (`gateway-submit.ts`, `gateway-burst.ts`) measure, each a
 * Gateway listening on 127.0.0.1 and torn down without leftovers:
 * - baseline: a bare Fastify route answering 202 at once,
 * - embedded: SQLite (temp dir) + MemoryStateStore + an in-process DAG Manager,
 * - distributed: PostgreSQL (a fresh schema, dropped after) + Redis (a unique key prefix, deleted
 *   after) + the DAG Manager over gRPC in a child process running this file (role `dagmanager`).
 * Also the command-line knobs that tune them (`workers=N`, `pool=N`).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastify } from 'fastify';
import { startGrpcServer } from '../src/dagmanager/grpc-server.js';
import { createGateway, type Gateway, type GatewayOptions } from '../src/gateway/create-gateway.js';
import type { DagClient } from '../src/gateway/dag-client.js';
import { EmbeddedDagClient } from '../src/gateway/embedded-dag-client.js';
import { memoryDagManager } from '../src/gateway/gateway.test-kit.js';
import { MemoryStateStore } from '../src/gateway/state/memory-state-store.js';
import type { StateStore } from '../src/gateway/state/state-store.js';
import type { StrategyStore } from '../src/gateway/store/strategy-store.js';
import { pidsNamed } from './gateway-figures.js';

/** The shared PostgreSQL of the distributed setup (each run makes its own schema). */
export const POSTGRES_DSN = 'postgresql://postgres@127.0.0.1:5432/qmtl';
/** The shared Redis of the distributed setup (each run uses its own key prefix). */
export const REDIS_DSN = 'redis://127.0.0.1:6379';
/** This file: the DAG Manager child re-executes it, and its role dispatch is at the bottom. */
const SELF = fileURLToPath(import.meta.url);
const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

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

/** The DAG Manager child: a gRPC server (memory repository) that sends its port and ends on disconnect. */
async function dagManagerMain(): Promise<void> {
  const server = await startGrpcServer(memoryDagManager(), { host: '127.0.0.1', port: 0 });
  process.send!(server.port);
  await once(process, 'disconnect');
  await server.close(1_000);
  process.exit(0);
}

// ---------------------------------------------------------------- command-line knobs

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

// The DAG Manager child of `startDistributed` runs this file with this role.
if (process.env['QMTL_BENCH_ROLE'] === 'dagmanager') await dagManagerMain();
