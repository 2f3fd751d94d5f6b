import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, type QmtlError } from '../common/errors.js';
import { sha3Hex } from '../common/hash.js';
import { nodeIdPreimage } from '../dag/node-id.js';
import { chainDag, wireNode } from './dag.test-kit.js';
import { DiffService } from './diff-service.js';
import { dagManagerMetrics, resetDagManagerMetrics } from './metrics.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';

function setup(options: { cacheSize?: number } = {}) {
  const repo = MemoryNodeRepository.open();
  const admin = new MemoryQueueAdmin();
  let clock = 1_700_000_000_000;
  const service = new DiffService({
    repo,
    topics: { ensure: (spec) => admin.createTopic({ ...spec, replicationFactor: 1 }) },
    now: () => clock,
    ...options,
  });
  return { repo, admin, service, tick: (ms: number) => (clock += ms) };
}

const failure = async (promise: Promise<unknown>): Promise<QmtlError> => {
  try {
    await promise;
  } catch (error) {
    return error as QmtlError;
  }
  throw new Error('expected a rejection');
};

describe('DiffService', () => {
  beforeEach(() => resetDagManagerMetrics());

  it('creates a topic per new node, stores the nodes and makes the submitter their producer', async () => {
    const { service, admin, repo } = setup();
    const dag = chainDag(3);
    const outcome = await service.diff({ strategyId: 's1', dagJson: JSON.stringify(dag) });
    expect(outcome.sentinelId).toBe('s1-sentinel');
    expect([...outcome.queueMap.keys()]).toEqual(dag.nodes.map((n) => n.node_id));
    expect(outcome.topicMap).toEqual(outcome.queueMap);
    expect(outcome.newNodes).toHaveLength(3);
    expect((await admin.listTopics()).sort()).toEqual([...outcome.queueMap.values()].sort());
    const first = dag.nodes[0]!;
    expect(outcome.queueMap.get(first.node_id)).toBe(`asset_StreamInput_${first.code_hash.slice(0, 6)}_v1`);
    expect((await repo.getNodes([first.node_id])).get(first.node_id)?.kind).toBe('raw');
    expect((await repo.getSentinel('s1-sentinel'))?.nodeIds).toEqual(dag.nodes.map((n) => n.node_id));
  });

  it("drops the Gateway's VersionSentinel marker node and writes its own sentinel", async () => {
    const { service } = setup();
    const dag = chainDag(2);
    const marker = { node_id: 's1-sentinel', node_type: 'VersionSentinel', inputs: [], tags: [] };
    const outcome = await service.diff({ strategyId: 's1', dagJson: { nodes: [...dag.nodes, marker] } });
    expect([...outcome.queueMap.keys()]).toEqual(dag.nodes.map((n) => n.node_id));
    expect(outcome.sentinelWritten).toBe(true);
  });

  it('reuses every node and topic of a DAG submitted twice; the second strategy consumes', async () => {
    const { service, admin } = setup();
    const dag = chainDag(4);
    const first = await service.diff({ strategyId: 's1', dagJson: dag });
    const topics = await admin.listTopics();
    const second = await service.diff({ strategyId: 's2', dagJson: dag });
    expect(second.queueMap).toEqual(first.queueMap);
    expect(second.topicMap.size).toBe(0);
    expect(second.newNodes).toEqual([]);
    expect(second.sentinelWritten).toBe(false);
    expect(await admin.listTopics()).toEqual(topics);
    expect(await dagManagerMetrics.sentinelGapCount.get()).toMatchObject({ values: [{ value: 1 }] });
  });

  it('hands production to the next submitter once the producer is released', async () => {
    const { service, repo } = setup();
    const dag = chainDag(2);
    await service.diff({ strategyId: 's1', dagJson: dag });
    await repo.releaseStrategy('s1', Date.now());
    const next = await service.diff({ strategyId: 's2', dagJson: dag });
    expect(next.topicMap).toEqual(next.queueMap);
  });

  it('creates nodes again after GC dropped them (its cached records forgotten)', async () => {
    // A cache as in front of Neo4j (the memory repository gets none by default).
    const { service, repo, admin } = setup({ cacheSize: 100 });
    const dag = chainDag(3);
    const first = await service.diff({ strategyId: 's1', dagJson: dag });
    await repo.releaseStrategy('s1', 0);
    await service.collecting([...first.queueMap.keys()], async () => {
      for (const topic of first.queueMap.values()) {
        await repo.dropQueue(topic);
        await admin.deleteTopic(topic);
      }
    });
    const again = await service.diff({ strategyId: 's2', dagJson: dag });
    expect(again.newNodes).toHaveLength(3);
    expect(await admin.listTopics()).toHaveLength(3);
  });

  it('reuses shared nodes and produces only the new ones', async () => {
    const { service } = setup();
    const base = chainDag(2);
    await service.diff({ strategyId: 's1', dagJson: base });
    const extra = wireNode({ name: 'mine', inputs: [base.nodes[1]!] });
    const outcome = await service.diff({ strategyId: 's2', dagJson: { nodes: [...base.nodes, extra] } });
    expect([...outcome.topicMap.keys()]).toEqual([extra.node_id]);
    expect(outcome.newNodes.map((n) => n.nodeId)).toEqual([extra.node_id]);
  });

  it('gives a changed compute function a new version topic (_v2)', async () => {
    const { service } = setup();
    const v1 = wireNode({ name: 'ema', code: 'old' });
    const v2 = wireNode({ name: 'ema', code: 'new' });
    const a = await service.diff({ strategyId: 's1', dagJson: { nodes: [v1] } });
    const b = await service.diff({ strategyId: 's2', dagJson: { nodes: [v2] } });
    expect(a.queueMap.get(v1.node_id)).toMatch(/_v1$/);
    expect(b.queueMap.get(v2.node_id)).toMatch(/_v2$/);
    expect(b.bufferNodes).toEqual([]);
  });

  it('buffers a node whose schema changed but code did not (lag = period)', async () => {
    const { service, repo } = setup();
    const before = wireNode({ name: 'ema', schema: { v: 'number' }, period: 20, tags: ['t'] });
    const after = wireNode({
      name: 'ema',
      schema: { v: 'number', extra: 'number' },
      period: 20,
      tags: ['t'],
    });
    await service.diff({ strategyId: 's1', dagJson: { nodes: [before] } });
    const outcome = await service.diff({ strategyId: 's2', dagJson: { nodes: [after] } });
    expect(outcome.bufferNodes).toEqual([
      {
        nodeId: after.node_id,
        nodeType: after.node_type,
        codeHash: after.code_hash,
        schemaHash: after.schema_hash,
        interval: 60,
        period: 20,
        tags: ['t'],
        lag: 20,
      },
    ]);
    expect((await repo.getBufferingNodes(Number.MAX_SAFE_INTEGER)).map((r) => r.nodeId)).toEqual([
      after.node_id,
    ]);
  });

  it('lengthens the hash part of a topic name taken by a different node', async () => {
    const { service } = setup();
    const a = wireNode({ name: 'a', code: 'same code' });
    const b = wireNode({ name: 'b', code: 'same code', nodeType: 'ProcessingNode' });
    const outcome = await service.diff({ strategyId: 's1', dagJson: { nodes: [a, b] } });
    const [ta, tb] = [outcome.queueMap.get(a.node_id)!, outcome.queueMap.get(b.node_id)!];
    expect(ta).not.toBe(tb);
    expect(tb.split('_')[2]).toHaveLength(8);
    expect(tb.split('_')[2]).toBe(b.code_hash.slice(0, 6) + b.node_id.slice(0, 2));
    // Resubmitting reuses the same (longer) name rather than growing it again.
    expect(
      (await service.diff({ strategyId: 's2', dagJson: { nodes: [a, b] } })).queueMap.get(b.node_id),
    ).toBe(tb);
  });

  it('still reuses nodes whose cached records were evicted (a cache far smaller than the DAGs)', async () => {
    const { service, repo } = setup({ cacheSize: 10 });
    const dags = [0, 1, 2].map((k) => chainDag(8, `cache-${k}-`));
    const first = await Promise.all(
      dags.map((dag, k) => service.diff({ strategyId: `a${k}`, dagJson: dag })),
    );
    const again = await service.diff({ strategyId: 'b0', dagJson: dags[0]! });
    expect(again.newNodes).toEqual([]);
    expect([...again.queueMap]).toEqual([...first[0]!.queueMap]);
    expect((await repo.getNodes(dags.flatMap((d) => d.nodes.map((n) => n.node_id)))).size).toBe(24);
  });

  it('keeps any number of nodes sharing their code on topics of their own', async () => {
    const { service } = setup();
    const nodes = Array.from({ length: 40 }, (_, k) => wireNode({ name: `n${k}`, code: 'same code' }));
    const outcome = await service.diff({ strategyId: 's1', dagJson: { nodes } });
    const topics = nodes.map((node) => outcome.queueMap.get(node.node_id)!);
    expect(new Set(topics).size).toBe(40);
  });

  it('gives a node a longer name when the broker has a topic that takes its name', async () => {
    const { service, admin } = setup();
    // Same code (so the same 6-character hash), assets that differ only in "." versus "_":
    // Kafka refuses the second name, as the in-process admin does.
    const dotted = wireNode({ name: 'a', code: 'same code', extra: { asset: 'btc.usd' } });
    const underscored = wireNode({ name: 'b', code: 'same code', extra: { asset: 'btc_usd' } });
    const first = (await service.diff({ strategyId: 's1', dagJson: { nodes: [dotted] } })).queueMap;
    const second = (await service.diff({ strategyId: 's2', dagJson: { nodes: [underscored] } })).queueMap;
    const [dottedTopic, underscoredTopic] = [first.get(dotted.node_id)!, second.get(underscored.node_id)!];
    expect(dottedTopic).toMatch(/^btc\.usd_ProcessingNode_[0-9a-f]{6}_v1$/);
    expect(underscoredTopic).toMatch(/^btc_usd_ProcessingNode_[0-9a-f]{8}_v1$/);
    expect(await admin.listTopics()).toEqual([dottedTopic, underscoredTopic].sort());
  });

  it('tells every diff naming a buffering node, resubmissions included, until buffering is cleared', async () => {
    const { service, repo } = setup();
    const before = wireNode({ name: 'ema', schema: { v: 'number' }, period: 20 });
    const after = wireNode({ name: 'ema', schema: { v: 'number', extra: 'number' }, period: 20 });
    await service.diff({ strategyId: 's1', dagJson: { nodes: [before] } });
    const first = await service.diff({ strategyId: 's2', dagJson: { nodes: [after] } });
    expect(first.bufferNodes.map((b) => b.nodeId)).toEqual([after.node_id]);
    // The same request again (a resumed Diff stream re-runs it) and another strategy: still buffering.
    for (const strategyId of ['s2', 's3']) {
      const again = await service.diff({ strategyId, dagJson: { nodes: [after] } });
      expect(again.newNodes).toEqual([]);
      expect(again.bufferNodes).toEqual(first.bufferNodes);
    }
    await repo.clearBuffering([after.node_id]);
    expect((await service.diff({ strategyId: 's4', dagJson: { nodes: [after] } })).bufferNodes).toEqual([]);
  });

  it('writes the sentinel with the nodes: a crash before the strategy is attached loses neither', async () => {
    const { service, repo } = setup();
    const dag = chainDag(3);
    const attach = repo.attachStrategy.bind(repo);
    repo.attachStrategy = () => Promise.reject(new Error('DAG Manager killed'));
    await expect(service.diff({ strategyId: 's1', dagJson: dag })).rejects.toThrow('DAG Manager killed');
    repo.attachStrategy = attach;
    // The Gateway's retry finds every node stored, so it has no new node to write a sentinel for.
    const retry = await service.diff({ strategyId: 's1', dagJson: dag });
    expect(retry.newNodes).toEqual([]);
    expect(retry.topicMap).toEqual(retry.queueMap);
    expect((await repo.getSentinel('s1-sentinel'))?.nodeIds).toEqual(dag.nodes.map((n) => n.node_id));
  });

  it('deletes the topics it created when the diff fails before storing its nodes', async () => {
    const repo = MemoryNodeRepository.open();
    const admin = new MemoryQueueAdmin();
    const nodes = chainDag(20).nodes;
    let calls = 0;
    const service = new DiffService({
      repo,
      topics: {
        // The 10th topic cannot be created (a broker error after its retries).
        ensure: (spec) =>
          ++calls === 10 ? Promise.reject(new Error('broker refused')) : admin.createTopic(spec),
        remove: (name) => admin.deleteTopic(name),
      },
      topicConcurrency: 4,
    });
    await expect(service.diff({ strategyId: 's1', dagJson: { nodes } })).rejects.toThrow('broker refused');
    expect(await admin.listTopics()).toEqual([]);
    expect((await repo.getNodes(nodes.map((n) => n.node_id))).size).toBe(0);
    // The next attempt creates every topic and stores every node.
    await service.diff({ strategyId: 's1', dagJson: { nodes } });
    expect(await admin.listTopics()).toHaveLength(20);
  });

  it('adopts the topics a killed diff left behind when the DAG comes again', async () => {
    const { service, admin, repo } = setup();
    const dag = chainDag(5);
    const create = repo.createNodes.bind(repo);
    // Killed after creating the topics, before storing the nodes: no cleanup runs.
    repo.createNodes = () => Promise.reject(new Error('DAG Manager killed'));
    await expect(service.diff({ strategyId: 's1', dagJson: dag })).rejects.toThrow('DAG Manager killed');
    const left = (await admin.listTopics()).sort();
    expect(left).toHaveLength(5);
    repo.createNodes = create;
    const retry = await service.diff({ strategyId: 's1', dagJson: dag });
    expect([...retry.queueMap.values()].sort()).toEqual(left);
    expect((await admin.listTopics()).sort()).toEqual(left);
  });

  it('refuses a node whose topic name would be too long for Kafka before creating any topic', async () => {
    const { service, admin } = setup();
    const fine = wireNode({ name: 'fine' });
    const long = wireNode({ name: 'long', extra: { asset: 'x'.repeat(300) } });
    await expect(service.diff({ strategyId: 's1', dagJson: { nodes: [fine, long] } })).rejects.toMatchObject({
      code: ErrorCode.InvalidDag,
      message: expect.stringContaining('node "long": its topic name "xxxx'),
    });
    expect(await admin.listTopics()).toEqual([]);
  });

  it('uses the node’s asset field as the topic prefix', async () => {
    const { service } = setup();
    const node = wireNode({ name: 'btc', extra: { asset: 'btc' } });
    expect(
      (await service.diff({ strategyId: 's1', dagJson: { nodes: [node] } })).queueMap.get(node.node_id),
    ).toMatch(/^btc_ProcessingNode_/);
  });

  it('accepts an empty DAG: no topics, no sentinel, a sentinel gap', async () => {
    const { service, admin } = setup();
    const outcome = await service.diff({ strategyId: 's1', dagJson: '{"nodes":[]}' });
    expect(outcome.queueMap.size).toBe(0);
    expect(outcome.sentinelWritten).toBe(false);
    expect(await admin.listTopics()).toEqual([]);
  });

  it('rejects a cycle, unknown inputs and duplicate ids, listing every problem, storing nothing', async () => {
    const { service, admin, repo } = setup();
    const a = wireNode({ name: 'a' });
    const b = { ...wireNode({ name: 'b' }), inputs: ['f'.repeat(64)] };
    const error = await failure(service.diff({ strategyId: 's1', dagJson: { nodes: [a, a, b] } }));
    expect(error.problems.map((p) => p.code).sort()).toEqual(
      [ErrorCode.DuplicateNodeId, ErrorCode.UnknownInput].sort(),
    );
    const x = wireNode({ name: 'x' });
    const y = wireNode({ name: 'y', inputs: [x] });
    const cyclic = { nodes: [{ ...x, inputs: [y.node_id] }, y] };
    const cycle = await failure(service.diff({ strategyId: 's1', dagJson: cyclic }));
    expect(cycle.problems.some((p) => p.code === ErrorCode.DagCycle)).toBe(true);
    expect(await admin.listTopics()).toEqual([]);
    expect(await repo.listOrphanQueues()).toEqual([]);
  });

  it('rejects a new node whose id does not match its identity, also alongside other problems', async () => {
    const { service, admin } = setup();
    const forged = { ...wireNode({ name: 'a' }), node_id: 'e'.repeat(64) };
    await expect(service.diff({ strategyId: 's1', dagJson: { nodes: [forged] } })).rejects.toMatchObject({
      code: ErrorCode.NodeIdMismatch,
    });
    const unknown = { ...wireNode({ name: 'b' }), inputs: ['f'.repeat(64)] };
    const both = await failure(service.diff({ strategyId: 's1', dagJson: { nodes: [forged, unknown] } }));
    expect(both.problems.map((p) => p.code).sort()).toEqual(
      [ErrorCode.NodeIdMismatch, ErrorCode.UnknownInput].sort(),
    );
    expect(await admin.listTopics()).toEqual([]);
  });

  it('rejects bad JSON, a bad strategy id and a node id colliding with a different stored node', async () => {
    const { service, repo } = setup();
    await expect(service.diff({ strategyId: 's1', dagJson: '{nodes' })).rejects.toMatchObject({
      code: ErrorCode.InvalidDag,
      message: expect.stringContaining('dag_json is not valid JSON'),
    });
    await expect(service.diff({ strategyId: '', dagJson: '{"nodes":[]}' })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: expect.stringContaining('strategy_id'),
    });
    const node = wireNode({ name: 'a' });
    await repo.createNodes([
      {
        nodeId: node.node_id,
        nodeType: 'Other',
        codeHash: node.code_hash,
        configHash: node.config_hash,
        schemaHash: node.schema_hash,
        interval: 60,
        period: 10,
        tags: [],
        inputs: [],
        topic: 'x',
        kind: 'indicator',
        version: 1,
        createdAt: 0,
        bufferingSince: null,
      },
    ]);
    await expect(service.diff({ strategyId: 's1', dagJson: { nodes: [node] } })).rejects.toMatchObject({
      code: ErrorCode.NodeIdMismatch,
    });
  });

  it('takes a SHA3-256 id only when the SHA-256 id is taken by a different node', async () => {
    const { service, repo } = setup();
    const node = wireNode({ name: 'a' });
    const preimage = nodeIdPreimage({
      nodeType: node.node_type,
      codeHash: node.code_hash,
      configHash: node.config_hash,
      schemaHash: node.schema_hash,
    });
    const fallback = { ...node, node_id: sha3Hex(preimage) };
    // The SHA-256 id is free: the fallback would store one computation twice.
    await expect(service.diff({ strategyId: 's1', dagJson: { nodes: [fallback] } })).rejects.toMatchObject({
      code: ErrorCode.NodeIdMismatch,
      message: expect.stringContaining(
        `node_id is the SHA3-256 fallback, but its SHA-256 id "${node.node_id.slice(0, 8)}…" is free; submit it under ${node.node_id}`,
      ),
    });
    await service.diff({ strategyId: 's1', dagJson: { nodes: [node] } });
    await expect(service.diff({ strategyId: 's2', dagJson: { nodes: [fallback] } })).rejects.toThrow(
      /is stored for this same node/,
    );
    // A different node really holds the SHA-256 id: the fallback is how this node gets stored.
    const collided = setup();
    await collided.repo.createNodes([
      { ...(await repo.getNodes([node.node_id])).get(node.node_id)!, nodeType: 'Other' },
    ]);
    const outcome = await collided.service.diff({ strategyId: 's3', dagJson: { nodes: [fallback] } });
    expect([...outcome.queueMap.keys()]).toEqual([fallback.node_id]);
  });

  it('reports a stored id submitted with other fields as a mismatch, not a collision, when it is not their digest', async () => {
    const { service } = setup();
    const node = wireNode({ name: 'a' });
    await service.diff({ strategyId: 's1', dagJson: { nodes: [node] } });
    const changed = { ...node, code_hash: wireNode({ name: 'a', code: 'other code' }).code_hash };
    await expect(service.diff({ strategyId: 's2', dagJson: { nodes: [changed] } })).rejects.toMatchObject({
      code: ErrorCode.NodeIdMismatch,
      message: expect.stringContaining(
        'does not match its node_type, code_hash, config_hash and schema_hash',
      ),
    });
  });

  it('keeps nodes sharing their code on topics of their own when different DAGs arrive at once', async () => {
    // Found by the content-hash property test: two diffs named their new nodes at the same time,
    // each saw the 6-character name free, and two different nodes got one topic.
    const { service, admin } = setup();
    const nodes = Array.from({ length: 20 }, (_, k) => wireNode({ name: `n${k}`, code: 'same code' }));
    const outcomes = await Promise.all(
      nodes.map((node, k) => service.diff({ strategyId: `s${k}`, dagJson: { nodes: [node] } })),
    );
    const topics = outcomes.map((outcome, k) => outcome.queueMap.get(nodes[k]!.node_id)!);
    expect(new Set(topics).size).toBe(20);
    expect(await admin.listTopics()).toHaveLength(20);
  });

  it('names a new node while another diff names nodes whose hashes begin differently', async () => {
    // Two nodes whose code and config hashes differ in their first four hex digits but agree in
    // their first byte modulo 64 (the naming stripes of an earlier version): B must not wait for A.
    const byte = (hex: string): number => parseInt(hex.slice(0, 2), 16) % 64;
    const a = wireNode({ name: 'a' });
    let b = a;
    for (let k = 0; b === a; k++) {
      const candidate = wireNode({ name: `b${k}` });
      const sameByte =
        byte(candidate.code_hash) === byte(a.code_hash) &&
        byte(candidate.config_hash) === byte(a.config_hash);
      const differ =
        candidate.code_hash.slice(0, 4) !== a.code_hash.slice(0, 4) &&
        candidate.config_hash.slice(0, 4) !== a.config_hash.slice(0, 4);
      if (sameByte && differ) b = candidate;
    }
    const admin = new MemoryQueueAdmin();
    let releaseA!: () => void;
    const aBlocked = new Promise<void>((resolve) => (releaseA = resolve));
    let aNaming!: () => void;
    const aHoldsItsStripes = new Promise<void>((resolve) => (aNaming = resolve));
    const service = new DiffService({
      repo: MemoryNodeRepository.open(),
      topics: {
        ensure: async (spec) => {
          if (spec.name.includes(a.code_hash.slice(0, 6))) {
            aNaming();
            await aBlocked;
          }
          return admin.createTopic({ ...spec, replicationFactor: 1 });
        },
      },
    });
    const first = service.diff({ strategyId: 'sa', dagJson: { nodes: [a] } });
    await aHoldsItsStripes;
    const second = service.diff({ strategyId: 'sb', dagJson: { nodes: [b] } });
    const winner = await Promise.race([
      second.then(() => 'b done'),
      new Promise((resolve) => setTimeout(() => resolve('b waited for a'), 500)),
    ]);
    releaseA();
    await Promise.all([first, second]);
    expect(winner).toBe('b done');
    expect(await admin.listTopics()).toHaveLength(2);
  });

  it('creates exactly one topic per node under 50 concurrent diffs of the same new DAG', async () => {
    const { service, admin } = setup();
    const dag = chainDag(20);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => service.diff({ strategyId: `s${i}`, dagJson: dag })),
    );
    expect(await admin.listTopics()).toHaveLength(20);
    for (const outcome of outcomes) expect(outcome.queueMap).toEqual(outcomes[0]!.queueMap);
    const producers = outcomes.filter((o) => o.topicMap.size > 0);
    expect(producers).toHaveLength(1);
    expect(producers[0]!.topicMap.size).toBe(20);
  });
});
