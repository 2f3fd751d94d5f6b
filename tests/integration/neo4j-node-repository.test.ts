import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { Neo4jNodeRepository, exportSchema } from '../../src/dagmanager/neo4j-node-repository.js';
import * as cypher from '../../src/dagmanager/neo4j-cypher.js';
import { LOCK_C } from '../../src/dagmanager/neo4j-cypher.js';
import { SCHEMA_STATEMENTS } from '../../src/dagmanager/neo4j-schema.js';
import type { NodeRecord } from '../../src/dagmanager/node-record.js';
import {
  testNodeRepositoryContract,
  testRecord,
} from '../../src/dagmanager/node-repository.contract.test-kit.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { freePort } from '../support/service-process.js';

const options = {
  uri: `bolt://${servers.neo4j.address}`,
  user: 'neo4j',
  // The test server runs without authentication; any credentials are accepted.
  password: 'unused',
};
const reachable = await isReachable('neo4j');

/** Empties the database (the contract's `create` needs an empty store). */
async function wipe(): Promise<void> {
  const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
  try {
    await driver.executeQuery('MATCH (n) DETACH DELETE n');
  } finally {
    await driver.close();
  }
}

async function freshRepository(): Promise<Neo4jNodeRepository> {
  const repo = await Neo4jNodeRepository.connect(options);
  await wipe();
  return repo;
}

describeWithServer('neo4j', reachable, 'Neo4jNodeRepository', () => {
  testNodeRepositoryContract('neo4j', {
    create: freshRepository,
    reopen: () => Neo4jNodeRepository.connect(options),
    modelRuns: 25,
  });

  it('locks an unproduced node before claiming it (attach waits for an uncommitted claim)', async () => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    const session = driver.session();
    try {
      const a = testRecord('locked');
      await repo.createNodes([a]);
      // Another writer claims the node in a transaction it has not committed yet.
      const claim = await session.beginTransaction();
      await claim.run(
        `MERGE (s:Strategy {strategy_id: 'holder'}) SET s.active = true
         WITH s MATCH (c:ComputeNode {node_id: $nodeId}) ${LOCK_C}
         MERGE (c)-[:USED_BY {role: 'producer'}]->(s)`,
        { nodeId: a.nodeId },
      );
      const attaching = repo.attachStrategy('late', [a.nodeId], 1);
      // Wait for the event: the server reports the attach blocked on the claim's lock.
      for (let polls = 0; ; polls++) {
        const { records } = await driver.executeQuery(
          "SHOW TRANSACTIONS YIELD status, currentQuery WHERE status STARTS WITH 'Blocked' RETURN count(*) AS blocked",
        );
        if (records[0]?.get('blocked') > 0) break;
        if (polls > 500) throw new Error('attachStrategy never blocked on the locked node');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await claim.commit();
      expect((await attaching).get(a.nodeId)).toBe('holder');
      expect((await repo.strategyRoles('late')).get(a.nodeId)).toBe('consumer');
    } finally {
      await session.close();
      await driver.close();
      await repo.close();
    }
  });

  it('attaches a consumer without locking its nodes (an uncommitted lock does not block it)', async () => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    const session = driver.session();
    try {
      const a = testRecord('busy');
      await repo.createNodes([a]);
      await repo.attachStrategy('producer', [a.nodeId], 1);
      // Another writer holds the node's lock until the end of the test.
      const holder = await session.beginTransaction();
      await holder.run(`MATCH (c:ComputeNode {node_id: $nodeId}) ${LOCK_C}`, { nodeId: a.nodeId });
      try {
        expect((await repo.attachStrategy('consumer', [a.nodeId], 2)).get(a.nodeId)).toBe('producer');
        expect((await repo.strategyRoles('consumer')).get(a.nodeId)).toBe('consumer');
      } finally {
        await holder.rollback();
      }
    } finally {
      await session.close();
      await driver.close();
      await repo.close();
    }
  });

  it('keeps a node whose producer left alive while a consumer uses it, then orphans it', async () => {
    const repo = await freshRepository();
    try {
      const a = testRecord('kept', { topic: 't_kept' });
      await repo.createNodes([a]);
      await repo.attachStrategy('s1', [a.nodeId], 1000);
      await repo.attachStrategy('s2', [a.nodeId], 1000);
      await repo.attachStrategy('s3', [a.nodeId], 1000);
      expect(await repo.releaseStrategy('s1', 2000)).toEqual([a.nodeId]);
      expect(await repo.listOrphanQueues()).toEqual([]);
      expect(await repo.strategyRoles('s2')).toEqual(new Map([[a.nodeId, 'consumer']]));
      await Promise.all([repo.releaseStrategy('s2', 3000), repo.releaseStrategy('s3', 3000)]);
      expect((await repo.listOrphanQueues()).map((o) => [o.topic, o.orphanedSince])).toEqual([
        ['t_kept', 3000],
      ]);
      expect((await repo.attachStrategy('s2', [a.nodeId], 4000)).get(a.nodeId)).toBe('s2');
      expect(await repo.listOrphanQueues()).toEqual([]);
    } finally {
      await repo.close();
    }
  });

  it('keeps HAS edges in step with the sentinel node list', async () => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    const hasTargets = async (version = 's-sentinel'): Promise<string[]> => {
      const { records } = await driver.executeQuery(
        'MATCH (:VersionSentinel {version: $version})-[:HAS]->(c) RETURN c.node_id AS id ORDER BY id',
        { version },
      );
      return records.map((record) => record.get('id') as string);
    };
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((seed) => testRecord(seed)) as [
        NodeRecord,
        NodeRecord,
        NodeRecord,
      ];
      await repo.createNodes([a, b, c]);
      const sentinel = { sentinelId: 's-sentinel', strategyId: 's', createdAt: 1 };
      await repo.upsertSentinel({ ...sentinel, nodeIds: [b.nodeId, a.nodeId, 'unknown'] });
      expect(await hasTargets()).toEqual([a.nodeId, b.nodeId].sort());
      await repo.upsertSentinel({ ...sentinel, nodeIds: [c.nodeId, b.nodeId] });
      expect(await hasTargets()).toEqual([b.nodeId, c.nodeId].sort());
      expect((await repo.getSentinel('s-sentinel'))?.nodeIds).toEqual([c.nodeId, b.nodeId]);
      // A weight that came before the sentinel left a bare one: the upsert still links its nodes.
      await repo.setSentinelWeight('w-sentinel', 0.5, { now: 1, limit: 10 });
      await repo.upsertSentinel({
        sentinelId: 'w-sentinel',
        strategyId: 'w',
        createdAt: 2,
        nodeIds: [a.nodeId, c.nodeId],
      });
      expect(await hasTargets('w-sentinel')).toEqual([a.nodeId, c.nodeId].sort());
      expect((await repo.getSentinel('w-sentinel'))?.weight).toBe(0.5);
    } finally {
      await driver.close();
      await repo.close();
    }
  });

  it('counts and expires the bare sentinels of earlier versions as pending weights', async () => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    try {
      // What SET_SENTINEL_WEIGHT wrote before weights were bounded: no time, and any number of them.
      await driver.executeQuery(
        `CREATE (:VersionSentinel {version: 'legacy', strategy_id: '', created_at: 0, node_ids: [],
          traffic_weight: 0.5})`,
      );
      expect(await repo.setSentinelWeight('new', 0.1, { now: 5, limit: 1 })).toBe('full');
      expect(await repo.expirePendingWeights(1)).toEqual(['legacy']);
      expect(await repo.setSentinelWeight('new', 0.1, { now: 5, limit: 1 })).toBe('pending');
    } finally {
      await driver.close();
      await repo.close();
    }
  });

  it.each([
    {
      takeover: 'a new weight',
      cypher: cypher.SET_SENTINEL_WEIGHT,
      parameters: { sentinelId: 'p', weight: 0.2, now: 1_000 },
      kept: { createdAt: 1_000, weight: 0.2 },
    },
    {
      takeover: 'the sentinel a diff wrote',
      cypher: cypher.UPSERT_SENTINEL,
      parameters: { sentinelId: 'p', strategyId: 's', createdAt: 1_000, nodeIds: [], lockOrder: [] },
      kept: { strategyId: 's', createdAt: 1_000, weight: 0.1 },
    },
  ])('keeps a pending weight that $takeover took over while it was being expired', async (race) => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    const session = driver.session();
    try {
      await repo.setSentinelWeight('p', 0.1, { now: 100, limit: 10 });
      // Another writer takes the sentinel over in a transaction it has not committed yet.
      const takeover = await session.beginTransaction();
      await takeover.run(race.cypher, race.parameters);
      const expiring = repo.expirePendingWeights(500);
      for (let polls = 0; ; polls++) {
        const { records } = await driver.executeQuery(
          "SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS blocked",
        );
        if (records[0]?.get('blocked') > 0) break;
        if (polls > 500) throw new Error('expirePendingWeights never blocked on the locked sentinel');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await takeover.commit();
      expect(await expiring).toEqual([]);
      expect(await repo.getSentinel('p')).toMatchObject(race.kept);
    } finally {
      await session.close();
      await driver.close();
      await repo.close();
    }
  });

  it('plans every lookup as an index seek', async () => {
    const repo = await freshRepository();
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
    type Plan = { operatorType: string; children: Plan[] };
    const operators = (plan: Plan): string[] => [plan.operatorType, ...plan.children.flatMap(operators)];
    try {
      // The hints in neo4j-cypher.ts force this; a scan under UNWIND would run once per row.
      const statements = Object.entries(cypher).flatMap(([name, value]) =>
        typeof value === 'string' && name !== 'LOCK_C' && name !== 'ORPHAN_QUEUES' ? [{ name, value }] : [],
      );
      expect(statements.length).toBeGreaterThan(15);
      for (const { name, value } of statements) {
        const { summary } = await driver.executeQuery(`EXPLAIN ${value}`);
        const scans = operators(summary.plan as Plan).filter((operator) => operator.includes('Scan'));
        expect({ name, scans }).toEqual({ name, scans: [] });
      }
    } finally {
      await driver.close();
      await repo.close();
    }
  });

  it('applies its schema on connect, and connecting again is harmless', async () => {
    const first = await Neo4jNodeRepository.connect(options);
    const second = await Neo4jNodeRepository.connect(options);
    try {
      const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
      try {
        const { records } = await driver.executeQuery(
          'SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type RETURN name, labelsOrTypes, properties, type',
        );
        const computePk = records.find((r) => r.get('name') === 'compute_pk');
        expect(computePk?.get('labelsOrTypes')).toEqual(['ComputeNode']);
        expect(computePk?.get('properties')).toEqual(['node_id']);
        expect(computePk?.get('type')).toBe('UNIQUENESS');
        const indexes = await driver.executeQuery(
          'SHOW INDEXES YIELD name, labelsOrTypes, properties, state RETURN name, labelsOrTypes, properties, state',
        );
        const queueTopic = indexes.records.find((r) => r.get('name') === 'queue_topic');
        expect(queueTopic?.get('labelsOrTypes')).toEqual(['Queue']);
        expect(queueTopic?.get('properties')).toEqual(['topic']);
        expect(queueTopic?.get('state')).toBe('ONLINE');
      } finally {
        await driver.close();
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('exports the schema as CREATE statements, constraints first', async () => {
    const repo = await Neo4jNodeRepository.connect(options);
    try {
      const statements = await exportSchema(repo);
      expect(statements.length).toBe(SCHEMA_STATEMENTS.length);
      const constraints = SCHEMA_STATEMENTS.filter((s) => s.startsWith('CREATE CONSTRAINT')).length;
      expect(statements.slice(0, constraints).every((s) => s.startsWith('CREATE CONSTRAINT'))).toBe(true);
      expect(statements.slice(constraints).every((s) => /^CREATE (RANGE )?INDEX/.test(s))).toBe(true);
      const computePk = statements.find((s) => s.includes('`compute_pk`'));
      expect(computePk).toMatch(/FOR \(n:`ComputeNode`\) REQUIRE \(n\.`node_id`\) IS UNIQUE/);
      expect(statements.find((s) => s.includes('`queue_topic`'))).toMatch(
        /FOR \(n:`Queue`\) ON \(n\.`topic`\)/,
      );
      const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password));
      try {
        expect(await exportSchema(driver)).toEqual(statements);
      } finally {
        await driver.close();
      }
    } finally {
      await repo.close();
    }
  });

  it('reports error health against a closed port, and connect fails with QMTL_UNAVAILABLE', async () => {
    const port = await freePort();
    const down = { ...options, uri: `bolt://127.0.0.1:${port}` };
    const repo = await Neo4jNodeRepository.open(down);
    try {
      expect(await repo.health()).toBe('error');
    } finally {
      await repo.close();
    }
    await expect(Neo4jNodeRepository.connect(down)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringContaining(`127.0.0.1:${port} is unreachable`),
    });
  });

  it('fails a call with QMTL_UNAVAILABLE once its retry time is spent while Neo4j is down', async () => {
    const port = await freePort();
    const repo = await Neo4jNodeRepository.open({
      ...options,
      uri: `bolt://127.0.0.1:${port}`,
      maxRetryTimeMs: 1_000,
    });
    const started = Date.now();
    try {
      await expect(repo.getNodes(['a'])).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await repo.close();
    }
  });

  describe('large batches', () => {
    let repo: Neo4jNodeRepository;
    beforeAll(async () => {
      repo = await freshRepository();
    });
    afterAll(async () => {
      await repo.close();
    });

    for (const size of [1_000, 10_000]) {
      it(`creates and reads back ${size.toLocaleString('en')} nodes, each in one statement`, async () => {
        const records = Array.from({ length: size }, (_, i) =>
          testRecord(`bulk-${size}-${i}`, {
            inputs: i > 0 ? [`input-${i - 1}`] : [],
            tags: ['bulk', `t${i % 7}`],
          }),
        );
        const ids = records.map((r) => r.nodeId);
        const statements = vi.spyOn(neo4j.Driver.prototype, 'executeQuery');
        try {
          let began = performance.now();
          const created = await repo.createNodes(records);
          const createMs = performance.now() - began;
          expect(statements).toHaveBeenCalledTimes(1);
          began = performance.now();
          const read = await repo.getNodes(ids);
          const readMs = performance.now() - began;
          expect(statements).toHaveBeenCalledTimes(2);
          expect(created.size).toBe(size);
          expect(read.size).toBe(size);
          for (const record of records) expect(read.get(record.nodeId)).toEqual(record);
          console.info(
            `neo4j ${size} nodes: createNodes ${createMs.toFixed(0)} ms, getNodes ${readMs.toFixed(0)} ms`,
          );
        } finally {
          statements.mockRestore();
        }
      }, 120_000);
    }
  });
});
