import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultConfig } from '../../src/common/config.js';
import { chainDag, wireNode } from '../../src/dagmanager/dag.test-kit.js';
import { DagManagerClient } from '../../src/dagmanager/grpc-client.js';
import { KafkaQueueAdmin } from '../../src/dagmanager/kafka-queue-admin.js';
import { startDagManagerService, type DagManagerService } from '../../src/dagmanager/service.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const reachable = (await isReachable('neo4j')) && (await isReachable('kafka'));

describeWithServer(
  (await isReachable('neo4j')) ? 'kafka' : 'neo4j',
  reachable,
  'DAG Manager service on Neo4j + Kafka',
  () => {
    let service: DagManagerService;
    let client: DagManagerClient;
    let kafka: KafkaQueueAdmin;
    const run = randomUUID().slice(0, 8);

    beforeAll(async () => {
      const config = {
        ...defaultConfig().dagmanager,
        repo_backend: 'neo4j' as const,
        neo4j_dsn: `bolt://${servers.neo4j.address}`,
        neo4j_password: 'unused',
        queue_backend: 'kafka' as const,
        kafka_dsn: servers.kafka.address,
        grpc_port: 0,
        http_port: 0,
        gc_interval: 0,
        archive_dir: path.join(mkdtempSync(path.join(tmpdir(), 'qmtl-dm-')), 'archive'),
      };
      service = await startDagManagerService(config);
      client = new DagManagerClient(`127.0.0.1:${service.grpcPort}`, { deadlineMs: 60_000 });
      kafka = new KafkaQueueAdmin({ brokers: [servers.kafka.address] });
    }, 60_000);

    afterAll(async () => {
      client?.close();
      await kafka?.close();
      await service?.close();
    });

    it('diffs a 250-node DAG into Neo4j and Kafka; the second strategy reuses and consumes', async () => {
      const dag = JSON.stringify(chainDag(250, `d-${run}-`));
      const first = await client.diff(`a-${run}`, dag);
      expect(Object.keys(first.queueMap)).toHaveLength(250);
      expect(first.topicMap).toEqual(first.queueMap);
      const topics = new Set(await kafka.listTopics());
      for (const topic of Object.values(first.queueMap)) expect(topics.has(topic)).toBe(true);
      const second = await client.diff(`b-${run}`, dag);
      expect(second.queueMap).toEqual(first.queueMap);
      expect(second.topicMap).toEqual({});
      expect(await client.status()).toEqual({ neo4j: 'ok', queue: 'ok', state: 'running' });
    }, 120_000);

    it('creates exactly one Kafka topic per node under 50 concurrent diffs of the same new DAG', async () => {
      const dag = JSON.stringify(chainDag(10, `c-${run}-`));
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.diff(`c${i}-${run}`, dag)),
      );
      const topics = Object.values(replies[0]!.queueMap);
      for (const reply of replies) expect(reply.queueMap).toEqual(replies[0]!.queueMap);
      // A duplicate would be the same name or a longer-hash variant of it (`…_abcdef12_v1`).
      const stems = topics.map((t) => t.slice(0, t.lastIndexOf('_v')));
      const onBroker = (await kafka.listTopics()).filter((t) => stems.some((stem) => t.startsWith(stem)));
      expect(onBroker.sort()).toEqual([...topics].sort());
      expect(replies.filter((r) => Object.keys(r.topicMap).length > 0)).toHaveLength(1);
    }, 180_000);

    it('keeps 10 different nodes sharing their code on 10 topics when their DAGs arrive at once', async () => {
      const nodes = Array.from({ length: 10 }, (_, k) =>
        wireNode({ name: `same-${run}-${k}`, code: `code ${run}` }),
      );
      const replies = await Promise.all(
        nodes.map((node, k) => client.diff(`same${k}-${run}`, JSON.stringify({ nodes: [node] }))),
      );
      const topics = replies.map((reply, k) => reply.queueMap[nodes[k]!.node_id]!);
      expect(new Set(topics).size).toBe(10);
      const onBroker = new Set(await kafka.listTopics());
      for (const topic of topics) expect(onBroker.has(topic)).toBe(true);
    }, 120_000);
  },
);
