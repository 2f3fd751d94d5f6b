/**
 * The distributed Gateway end to end, as separate processes: `qmtl dagmgr-server` (memory graph
 * store with a journal, memory queues) and `qmtl gw` on PostgreSQL (a database of its own) and
 * Redis (a DB index of its own) with `dagmanager_url` pointing at the DAG Manager's gRPC.
 *
 * One scenario, step by step: submissions and node sharing; Redis losing every key (the status is
 * recovered from PostgreSQL, nothing is processed again, a lost FIFO entry is rebuilt from the
 * database); a DAG Manager outage (the submission is kept as `queued`, `/status` says so, and it
 * completes once the DAG Manager is back, without being resubmitted); a graceful SIGTERM.
 *
 * Needs `npm run build` first: it runs `dist/cli/main.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { chainDag } from '../../src/dagmanager/dag.test-kit.js';
import type { DagJson } from '../../src/dag/node-json.js';
import { submission } from '../../src/gateway/gateway.test-kit.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'dist', 'cli', 'main.js');
/** The Redis DB index this file owns (FLUSHDB'd freely); other suites use other indexes. */
const REDIS_DB = 6;
/** Worker lock TTL; the recovery sweep runs every half of it. */
const LOCK_TTL_MS = 2000;

const work = mkdtempSync(path.join(tmpdir(), 'qmtl-gw-service-'));
const children = new Set<ChildProcess>();

/** A `qmtl` service process and the groups its ready line matched. */
interface ServiceProcess {
  readonly child: ChildProcess;
  readonly ready: RegExpExecArray;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
}

/** Runs `qmtl <args>` in the work dir and resolves once its stdout matches `ready`. */
async function startService(args: readonly string[], ready: RegExp): Promise<ServiceProcess> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, QMTL_LOG_LEVEL: 'warn' },
  });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`qmtl ${args[0]} did not start:\n${output}`)), 20_000);
    const check = (): void => {
      const found = ready.exec(output);
      if (found === null) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(found);
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`qmtl ${args[0]} exited:\n${output}`)));
  });
  return { child, ready: match, exited, output: () => output };
}

/** The DAG Manager on `ports` (0: any free port), with its journal in the work dir. */
function startDagManager(ports: { grpc: number; http: number }): Promise<ServiceProcess> {
  const configFile = path.join(work, `dagmgr-${ports.grpc}.yml`);
  writeFileSync(
    configFile,
    stringify({
      dagmanager: {
        grpc_port: ports.grpc,
        http_port: ports.http,
        memory_repo_path: path.join(work, 'dag.journal'),
        archive_dir: path.join(work, 'archive'),
        gc_interval: 0,
      },
    }),
  );
  return startService(
    ['dagmgr-server', '--config', configFile],
    /gRPC ([\d.]+):(\d+), HTTP http:\/\/[\d.]+:(\d+)/,
  );
}

interface Reply<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * An HTTP call that honours the degradation gate as a client would: a 204 (STATIC) or, for a
 * submission, a 503 (MINIMAL) means "not now" — the Gateway measures the host's CPU, which other
 * processes share — so it is asked again every 100 ms, for at most 20 s.
 */
async function call<T>(url: string, init: RequestInit = {}): Promise<Reply<T>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(url, init);
    const gated = response.status === 204 || (init.method === 'POST' && response.status === 503);
    if (!gated || Date.now() > deadline) {
      const text = await response.text();
      return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
    }
    await sleep(100);
  }
}

interface SubmitReply {
  strategy_id: string;
  queue_map: Record<string, string>;
  topic_map: Record<string, string>;
  sentinel_id: string | null;
  status: string;
}

interface StrategyView extends SubmitReply {
  events: { event: string; from: string | null; to: string }[];
}

interface GatewayStatus {
  status: string;
  redis: string;
  postgres: string;
  dag_manager: string;
  degrade_level: string;
}

/** Polls `probe` every 100 ms until it returns true; false if `timeoutMs` passes first. */
async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

const nodeIds = (dag: DagJson): string[] => dag.nodes.map((node) => node.node_id);
const eventNames = (view: StrategyView): string[] =>
  view.events.map((e) => `${e.event}:${e.from ?? '-'}>${e.to}`);
const COMPLETED_ONCE = ['INIT:->queued', 'PROCESS:queued>processing', 'COMPLETE:processing>completed'];

const reachable = { postgres: await isReachable('postgres'), redis: await isReachable('redis') };

describeWithServer('postgres', reachable.postgres, 'qmtl gw, distributed (separate processes)', () => {
  describeWithServer('redis', reachable.redis, 'on PostgreSQL + Redis + qmtl dagmgr-server', () => {
    const database = `qmtl_gw_service_${process.pid}_${randomBytes(4).toString('hex')}`;
    const redisDsn = `redis://${servers.redis.address}/${REDIS_DB}`;
    let admin: pg.Pool;
    let redis: ReturnType<typeof createClient>;
    let dagManager: ServiceProcess;
    let dagManagerPorts: { grpc: number; http: number };
    let gateway: ServiceProcess;
    let url: string;
    const post = (dag: DagJson): Promise<Reply<SubmitReply>> =>
      call<SubmitReply>(`${url}/strategies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission(dag)),
      });
    const strategy = async (id: string): Promise<StrategyView> =>
      (await call<StrategyView>(`${url}/strategies/${id}`)).body;
    const statusOf = async (id: string): Promise<string> =>
      (await call<{ status: string }>(`${url}/strategies/${id}/status`)).body.status;
    const gatewayStatus = async (): Promise<GatewayStatus> =>
      (await call<GatewayStatus>(`${url}/status`)).body;
    const submitted: { first?: SubmitReply; second?: SubmitReply } = {};

    beforeAll(async () => {
      admin = new pg.Pool({
        connectionString: `postgresql://postgres@${servers.postgres.address}/qmtl`,
        max: 1,
      });
      await admin.query(`CREATE DATABASE ${database}`);
      redis = createClient({ url: redisDsn, RESP: 2 });
      redis.on('error', () => undefined);
      await redis.connect();
      await redis.flushDb();
      dagManager = await startDagManager({ grpc: 0, http: 0 });
      dagManagerPorts = { grpc: Number(dagManager.ready[2]), http: Number(dagManager.ready[3]) };
      const configFile = path.join(work, 'qmtl.yml');
      writeFileSync(
        configFile,
        stringify({
          gateway: {
            port: 0,
            database_backend: 'postgres',
            database_dsn: `postgresql://postgres@${servers.postgres.address}/${database}`,
            queue_backend: 'redis',
            redis_dsn: redisDsn,
            dagmanager_url: `${dagManager.ready[1]}:${dagManagerPorts.grpc}`,
            lock_ttl_ms: LOCK_TTL_MS,
            degradation_check_interval: 0.5,
            dagclient_breaker_timeout: 2,
            stats_rate_limit_per_minute: 0,
          },
        }),
      );
      gateway = await startService(['gw', '--config', configFile], /Gateway running: (http:\/\/[\d.]+:\d+)/);
      url = gateway.ready[1]!;
    }, 60_000);

    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      if (redis?.isOpen) {
        await redis.flushDb();
        await redis.close();
      }
      await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin?.end();
      rmSync(work, { recursive: true, force: true });
    });

    it('answers 202 with the topic_map of a new strategy, and maps a second one’s shared nodes to the same topics', async () => {
      expect(gateway.output()).toContain(`DAG Manager: ${dagManager.ready[1]}:${dagManagerPorts.grpc}`);
      const firstDag = chainDag(3, 'svc-a');
      const first = await post(firstDag);
      expect(first.status).toBe(202);
      expect(first.body.status).toBe('completed');
      expect(Object.keys(first.body.topic_map).sort()).toEqual(nodeIds(firstDag).sort());
      expect(first.body.sentinel_id).toBe(`${first.body.strategy_id}-sentinel`);

      // The same chain, two nodes longer: its first three nodes are the first strategy's.
      const secondDag = chainDag(5, 'svc-a');
      const second = await post(secondDag);
      expect(second.status).toBe(202);
      expect(second.body.status).toBe('completed');
      expect(second.body.queue_map).toMatchObject(first.body.topic_map);
      expect(Object.keys(second.body.topic_map).sort()).toEqual(nodeIds(secondDag).slice(3).sort());

      expect(await statusOf(first.body.strategy_id)).toBe('completed');
      expect(await statusOf(second.body.strategy_id)).toBe('completed');
      submitted.first = first.body;
      submitted.second = second.body;
    });

    it('answers completed from PostgreSQL after Redis loses every key, and processes nothing again', async () => {
      const ids = [submitted.first!.strategy_id, submitted.second!.strategy_id];
      await redis.flushDb();
      for (const id of ids) {
        expect(await statusOf(id)).toBe('completed');
        // The status came from the database and was cached again.
        expect(await redis.hGet(`strategy:${id}`, 'state')).toBe('completed');
      }
      // Nothing to wait for but the absence of work: let the recovery sweep run twice.
      await sleep(LOCK_TTL_MS + 500);
      for (const id of ids) {
        const view = await strategy(id);
        expect(view.status).toBe('completed');
        expect(eventNames(view)).toEqual(COMPLETED_ONCE);
      }
      expect(await redis.lRange('strategy_queue', 0, -1)).toEqual([]);
      expect(await redis.lRange('strategy_queue:inflight', 0, -1)).toEqual([]);
    });

    it('keeps a submission made while the DAG Manager is down and completes it once the DAG Manager is back', async () => {
      dagManager.child.kill('SIGKILL');
      await dagManager.exited;
      expect(await until(async () => (await gatewayStatus()).dag_manager === 'error', 10_000)).toBe(true);

      const dag = chainDag(4, 'svc-b');
      const queued = await post(dag);
      expect(queued.status).toBe(202);
      expect(queued.body.status).toBe('queued');
      expect([queued.body.queue_map, queued.body.topic_map]).toEqual([{}, {}]);
      const id = queued.body.strategy_id;
      expect(await gatewayStatus()).toMatchObject({
        status: 'degraded',
        dag_manager: 'error',
        postgres: 'ok',
        redis: 'ok',
      });
      expect(await statusOf(id)).toBe('queued');

      // Redis loses the FIFO as well: the sweep rebuilds it from the database.
      await redis.flushDb();
      expect(
        await until(async () => (await redis.lRange('strategy_queue', 0, -1)).includes(id), 5 * LOCK_TTL_MS),
      ).toBe(true);

      const restartedAt = Date.now();
      dagManager = await startDagManager(dagManagerPorts);
      // The client's circuit breaker stays open dagclient_breaker_timeout (2 s here) before it probes.
      const completed = await until(async () => (await statusOf(id)) === 'completed', 30_000);
      console.log(`queued strategy completed ${Date.now() - restartedAt} ms after the DAG Manager restarted`);
      expect(completed).toBe(true);
      const view = await strategy(id);
      expect(eventNames(view)).toEqual(COMPLETED_ONCE);
      expect(Object.keys(view.topic_map).sort()).toEqual(nodeIds(dag).sort());
      // Not `status: ok`: the level also follows the host's CPU, which other processes share.
      expect(await gatewayStatus()).toMatchObject({ dag_manager: 'ok', postgres: 'ok', redis: 'ok' });
    }, 120_000);

    it('exits 0 on SIGTERM and says so', async () => {
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toEqual({ code: 0, signal: null });
      expect(gateway.output()).toContain('Gateway stopped');
      dagManager.child.kill('SIGTERM');
      expect(await dagManager.exited).toEqual({ code: 0, signal: null });
    });
  });
});
