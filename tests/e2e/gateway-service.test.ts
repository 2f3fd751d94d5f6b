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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { chainDag } from '../../src/dagmanager/dag.test-kit.js';
import type { DagJson } from '../../src/dag/node-json.js';
import { submission } from '../../src/gateway/gateway.test-kit.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import {
  callPastGate,
  connectRedis,
  scratchDatabases,
  until,
  type RedisClient,
  type Reply,
} from '../support/service-clients.js';
import {
  gatewayConfig,
  killServiceProcesses,
  startDagManager,
  startGateway,
  type DagManagerProcess,
  type GatewayProcess,
} from '../support/service-process.js';

/** The Redis DB index this file owns (FLUSHDB'd freely); other suites use other indexes. */
const REDIS_DB = 6;
/** Worker lock TTL; the recovery sweep runs every half of it. */
const LOCK_TTL_MS = 2000;

const work = mkdtempSync(path.join(tmpdir(), 'qmtl-gw-service-'));

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

const nodeIds = (dag: DagJson): string[] => dag.nodes.map((node) => node.node_id);
const eventNames = (view: StrategyView): string[] =>
  view.events.map((e) => `${e.event}:${e.from ?? '-'}>${e.to}`);
const COMPLETED_ONCE = ['INIT:->queued', 'PROCESS:queued>processing', 'COMPLETE:processing>completed'];

const reachable = { postgres: await isReachable('postgres'), redis: await isReachable('redis') };

describeWithServer('postgres', reachable.postgres, 'qmtl gw, distributed (separate processes)', () => {
  describeWithServer('redis', reachable.redis, 'on PostgreSQL + Redis + qmtl dagmgr-server', () => {
    const databases = scratchDatabases('qmtl_gw_service');
    const redisDsn = `redis://${servers.redis.address}/${REDIS_DB}`;
    let redis: RedisClient;
    let dagManager: DagManagerProcess;
    let gateway: GatewayProcess;
    let url: string;
    const post = (dag: DagJson): Promise<Reply<SubmitReply>> =>
      callPastGate<SubmitReply>(`${url}/strategies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(submission(dag)),
      });
    const strategy = async (id: string): Promise<StrategyView> =>
      (await callPastGate<StrategyView>(`${url}/strategies/${id}`)).body;
    const statusOf = async (id: string): Promise<string> =>
      (await callPastGate<{ status: string }>(`${url}/strategies/${id}/status`)).body.status;
    const gatewayStatus = async (): Promise<GatewayStatus> =>
      (await callPastGate<GatewayStatus>(`${url}/status`)).body;
    const submitted: { first?: SubmitReply; second?: SubmitReply } = {};

    beforeAll(async () => {
      const databaseDsn = await databases.create('gateway');
      redis = await connectRedis(redisDsn);
      await redis.flushDb();
      dagManager = await startDagManager(work);
      const configFile = path.join(work, 'qmtl.yml');
      writeFileSync(
        configFile,
        stringify({
          gateway: gatewayConfig({
            database_backend: 'postgres',
            database_dsn: databaseDsn,
            queue_backend: 'redis',
            redis_dsn: redisDsn,
            dagmanager_url: dagManager.grpcAddress,
            lock_ttl_ms: LOCK_TTL_MS,
            degradation_check_interval: 0.5,
          }),
        }),
      );
      gateway = await startGateway(configFile, work);
      url = gateway.url;
    }, 60_000);

    afterAll(async () => {
      killServiceProcesses();
      if (redis?.isOpen) {
        await redis.flushDb();
        await redis.close();
      }
      await databases.dropAll();
      rmSync(work, { recursive: true, force: true });
    });

    it('answers 202 with the topic_map of a new strategy, and maps a second one’s shared nodes to the same topics', async () => {
      expect(gateway.output()).toContain(`DAG Manager: ${dagManager.grpcAddress}`);
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
      dagManager = await startDagManager(work, dagManager.ports);
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
