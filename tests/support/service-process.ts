/**
 * Services as separate processes, for e2e tests: the built `qmtl` bin (or any server, e.g.
 * `redis-server`) started and awaited until its stdout says it is ready, and SIGKILLed by
 * {@link killServiceProcesses} if a test leaves it running.
 *
 * @example
 * afterAll(killServiceProcesses);
 * const dagManager = await startDagManager(dir);
 * const gateway = await startGateway(configFile, dir);
 * await fetch(`${gateway.url}/status`);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The built CLI, which `npm run build` writes. */
export const qmtlBin = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** How long a process may take to print its ready line. */
const READY_TIMEOUT_MS = 20_000;
/** How much of a process's output is kept: a long run's warnings must not grow without bound. */
const OUTPUT_TAIL_CHARS = 20_000;

/** Every process started here that has not exited yet. */
const running = new Set<ChildProcess>();

/** How a process ended: its exit code, or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child process and the groups its ready line matched. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** What the `ready` pattern matched: `ready[1]` is its first group. */
  readonly ready: RegExpExecArray;
  /** Settles when the process exits, however it ends. */
  readonly exited: Promise<ProcessExit>;
  /** The tail of its stdout and stderr, interleaved as they arrived. */
  readonly output: () => string;
}

/** Where to run a process and how to tell that it is ready. */
export interface StartOptions {
  readonly cwd: string;
  /** Matched against the output so far on every chunk of stdout. */
  readonly ready: RegExp;
}

/** Runs `command <args>` and resolves once its stdout matches `options.ready`. */
export function startProcess(
  command: string,
  args: readonly string[],
  options: StartOptions,
): Promise<ServiceProcess> {
  return spawnUntilReady(path.basename(command), command, args, options);
}

/** Runs `qmtl <args>` (the built bin, at `QMTL_LOG_LEVEL=warn`); see {@link startProcess}. */
export function startService(args: readonly string[], options: StartOptions): Promise<ServiceProcess> {
  if (!existsSync(qmtlBin)) throw new Error(`${qmtlBin} is missing: run "npm run build" first`);
  return spawnUntilReady(`qmtl ${args[0]}`, process.execPath, [qmtlBin, ...args], options);
}

async function spawnUntilReady(
  name: string,
  command: string,
  args: readonly string[],
  { cwd, ready }: StartOptions,
): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd, env: { ...process.env, QMTL_LOG_LEVEL: 'warn' } });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), READY_TIMEOUT_MS);
    const check = (): void => {
      const found = ready.exec(output);
      if (found === null) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(found);
    };
    child.stdout.on('data', check);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`${name} exited:\n${output}`)));
  });
  return { child, ready: match, exited, output: () => output };
}

/** SIGKILLs every process started here that is still running; for `afterAll`. */
export function killServiceProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** A running `qmtl gw` and its base URL. */
export interface GatewayProcess extends ServiceProcess {
  /** `http://host:port`. */
  readonly url: string;
}

/** Runs `qmtl gw --config <configFile>` from `cwd`. */
export async function startGateway(configFile: string, cwd: string): Promise<GatewayProcess> {
  const service = await startService(['gw', '--config', configFile], {
    cwd,
    ready: /Gateway running: (http:\/\/[\d.]+:\d+)/,
  });
  return { ...service, url: service.ready[1]! };
}

/**
 * The `gateway` config section of an e2e Gateway, `overrides` on top of: any free port, worker
 * locks of 2 s, the degradation level checked every second, the DAG client's breaker open for 2 s,
 * no rate limit on the stats routes.
 */
export function gatewayConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    port: 0,
    lock_ttl_ms: 2000,
    degradation_check_interval: 1,
    dagclient_breaker_timeout: 2,
    stats_rate_limit_per_minute: 0,
    ...overrides,
  };
}

/** The ports of a DAG Manager; 0: any free port. */
export interface DagManagerPorts {
  readonly grpc: number;
  readonly http: number;
}

/** A running `qmtl dagmgr-server`, its gRPC address and the ports it got. */
export interface DagManagerProcess extends ServiceProcess {
  /** `host:port`, as a Gateway's `dagmanager_url` takes it. */
  readonly grpcAddress: string;
  readonly ports: DagManagerPorts;
}

/**
 * The `dagmanager` config section of a DAG Manager on memory adapters whose graph survives a
 * restart: its journal and archive live in `dir`; no GC runs.
 */
export function dagManagerConfig(
  dir: string,
  ports: DagManagerPorts = { grpc: 0, http: 0 },
): Record<string, unknown> {
  return {
    grpc_port: ports.grpc,
    http_port: ports.http,
    memory_repo_path: path.join(dir, 'dag.journal'),
    archive_dir: path.join(dir, 'archive'),
    gc_interval: 0,
  };
}

/**
 * Runs `qmtl dagmgr-server` from `dir` on {@link dagManagerConfig}: started again with the same
 * `dir` (and the first run's `ports`), it is the same DAG Manager back.
 */
export async function startDagManager(
  dir: string,
  ports: DagManagerPorts = { grpc: 0, http: 0 },
): Promise<DagManagerProcess> {
  const configFile = path.join(dir, `dagmgr-${ports.grpc}.yml`);
  writeFileSync(configFile, stringify({ dagmanager: dagManagerConfig(dir, ports) }));
  const service = await startService(['dagmgr-server', '--config', configFile], {
    cwd: dir,
    ready: /gRPC ([\d.]+):(\d+), HTTP http:\/\/[\d.]+:(\d+)/,
  });
  const [, host, grpc, http] = service.ready;
  return {
    ...service,
    grpcAddress: `${host}:${grpc}`,
    ports: { grpc: Number(grpc), http: Number(http) },
  };
}

/** A loopback port nothing listens on right now, for a server that cannot pick its own. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
