import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../common/hash.js';
import type { NodeRecord } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import {
  checkConcurrentRoles,
  checkRolesAgainstModel,
  checkTagQueriesAgainstModel,
} from './node-repository.model.test-kit.js';

/** A valid record for tests; `seed` makes its id, hashes and topic unique. */
export function testRecord(seed: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  const codeHash = sha256Hex(`code:${seed}`);
  return {
    nodeId: sha256Hex(`node:${seed}`),
    nodeType: 'EMA',
    codeHash,
    configHash: sha256Hex(`config:${seed}`),
    schemaHash: sha256Hex('{}'),
    interval: 60,
    period: 20,
    tags: ['price', 'btc'],
    inputs: [],
    topic: `asset_EMA_${codeHash.slice(0, 6)}_v1`,
    kind: 'indicator',
    version: 1,
    createdAt: 1_700_000_000_000,
    bufferingSince: null,
    ...overrides,
  };
}

/** Bounds for weights in tests that do not test them: room for every pending weight. */
const ROOMY = { now: 1, limit: 1_000 } as const;

/** Options of {@link testNodeRepositoryContract}. */
export interface NodeRepositoryContractOptions {
  /** A repository over an EMPTY store. */
  readonly create: () => Promise<NodeRepository>;
  /** A second repository over the same store as `repo` (e.g. after a restart), when supported. */
  readonly reopen?: (repo: NodeRepository) => Promise<NodeRepository>;
  /** Generated cases of each model-based check (default 100). */
  readonly modelRuns?: number;
}

/**
 * The behaviour every {@link NodeRepository} adapter must have. Call it from each adapter's test.
 * @example testNodeRepositoryContract('memory', { create: async () => MemoryNodeRepository.open() });
 */
export function testNodeRepositoryContract(name: string, options: NodeRepositoryContractOptions): void {
  describe(`${name} NodeRepository contract`, () => {
    let repo: NodeRepository;
    beforeEach(async () => {
      repo = await options.create();
    });
    afterEach(async () => {
      await repo.close();
    });

    it('stores nodes and reads them back field for field; unknown ids are absent', async () => {
      const a = testRecord('a', { inputs: ['x', 'y'], tags: ['t1'], interval: null, period: null });
      const b = testRecord('b', { kind: 'raw', nodeType: 'StreamInput', version: 3 });
      const stored = await repo.createNodes([a, b]);
      expect(stored.get(a.nodeId)).toEqual(a);
      const read = await repo.getNodes([a.nodeId, b.nodeId, 'missing']);
      expect(read.get(a.nodeId)).toEqual(a);
      expect(read.get(b.nodeId)).toEqual(b);
      expect(read.has('missing')).toBe(false);
      expect((await repo.getNodes([])).size).toBe(0);
    });

    it('keeps the first record of a node id (first writer wins), also under concurrent writers', async () => {
      const first = testRecord('a');
      await repo.createNodes([first]);
      const stored = await repo.createNodes([{ ...first, topic: 'other_topic', version: 9 }]);
      expect(stored.get(first.nodeId)).toEqual(first);

      const racing = testRecord('race');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => repo.createNodes([{ ...racing, topic: `race_topic_${i}` }])),
      );
      const topics = new Set(results.map((r) => r.get(racing.nodeId)!.topic));
      expect(topics.size).toBe(1);
      expect(await repo.takenTopics([...Array(20).keys()].map((i) => `race_topic_${i}`))).toEqual(topics);
    });

    it('finds topics, the node of a topic, and every version of a lineage', async () => {
      const v1 = testRecord('v1', { configHash: 'cfg', version: 1 });
      const v2 = testRecord('v2', { configHash: 'cfg', version: 2, topic: 'asset_EMA_zzzzzz_v2' });
      const other = testRecord('other', { nodeType: 'SMA', configHash: 'cfg' });
      await repo.createNodes([v1, v2, other]);
      expect(await repo.takenTopics([v1.topic, 'free'])).toEqual(new Set([v1.topic]));
      expect(await repo.getNodeByTopic(v2.topic)).toEqual(v2);
      expect(await repo.getNodeByTopic('free')).toBeNull();
      const lineage = await repo.getLineages([{ nodeType: 'EMA', configHash: 'cfg' }]);
      expect(lineage.map((r) => r.version).sort()).toEqual([1, 2]);
      expect(await repo.getLineages([])).toEqual([]);
    });

    it('answers tag queries: any = intersection, all = query tags ⊆ node tags, same interval', async () => {
      const ab = testRecord('ab', { tags: ['a', 'b'], topic: 't_ab' });
      const b = testRecord('b', { tags: ['b'], topic: 't_b' });
      const slow = testRecord('slow', { tags: ['a', 'b'], interval: 3600, topic: 't_slow' });
      // A tag query's own node carries its query tags; it reads queues, it is not one.
      const query = testRecord('query', { nodeType: 'TagQueryNode', tags: ['a', 'b'], topic: 't_query' });
      await repo.createNodes([ab, b, slow, query]);
      expect(await repo.getQueuesByTags({ tags: ['a'], interval: 60, matchMode: 'any' })).toEqual(['t_ab']);
      expect(
        (await repo.getQueuesByTags({ tags: ['a', 'b'], interval: 60, matchMode: 'any' })).sort(),
      ).toEqual(['t_ab', 't_b']);
      expect(await repo.getQueuesByTags({ tags: ['a', 'b'], interval: 60, matchMode: 'all' })).toEqual([
        't_ab',
      ]);
      expect(await repo.getQueuesByTags({ tags: ['a'], interval: 3600, matchMode: 'all' })).toEqual([
        't_slow',
      ]);
      expect(await repo.getQueuesByTags({ tags: [], interval: 60, matchMode: 'any' })).toEqual([]);
      expect(await repo.getQueuesByTags({ tags: ['zzz'], interval: 60, matchMode: 'any' })).toEqual([]);
    });

    it('makes the first active strategy the producer and later ones consumers', async () => {
      const a = testRecord('a');
      const b = testRecord('b');
      await repo.createNodes([a, b]);
      const first = await repo.attachStrategy('s1', [a.nodeId, b.nodeId], 1000);
      expect([...first.values()]).toEqual(['s1', 's1']);
      const second = await repo.attachStrategy('s2', [a.nodeId, b.nodeId], 2000);
      expect(second.get(a.nodeId)).toBe('s1');
      expect(await repo.strategyRoles('s1')).toEqual(
        new Map([
          [a.nodeId, 'producer'],
          [b.nodeId, 'producer'],
        ]),
      );
      expect((await repo.strategyRoles('s2')).get(a.nodeId)).toBe('consumer');
      expect((await repo.attachStrategy('s1', [a.nodeId], 3000)).get(a.nodeId)).toBe('s1');
    });

    it('hands production over when the producer is released', async () => {
      const a = testRecord('a');
      await repo.createNodes([a]);
      await repo.attachStrategy('s1', [a.nodeId], 1000);
      await repo.attachStrategy('s2', [a.nodeId], 1000);
      expect(await repo.releaseStrategy('s1', 2000)).toEqual([a.nodeId]);
      expect(await repo.releaseStrategy('s1', 2500)).toEqual([]);
      expect(await repo.releaseStrategy('unknown', 2500)).toEqual([]);
      expect((await repo.strategyRoles('s1')).size).toBe(0);
      expect((await repo.attachStrategy('s2', [a.nodeId], 3000)).get(a.nodeId)).toBe('s2');
      // A released strategy that comes back is a consumer of what s2 now produces.
      expect((await repo.attachStrategy('s1', [a.nodeId], 4000)).get(a.nodeId)).toBe('s2');
    });

    it('gives each node exactly one producer under concurrent attaches', async () => {
      const nodes = Array.from({ length: 10 }, (_, i) => testRecord(`n${i}`));
      await repo.createNodes(nodes);
      const ids = nodes.map((n) => n.nodeId);
      const maps = await Promise.all(
        Array.from({ length: 20 }, (_, i) => repo.attachStrategy(`s${i}`, ids, 1000)),
      );
      for (const id of ids) expect(new Set(maps.map((m) => m.get(id))).size).toBe(1);
      const producers = await Promise.all(maps.map((_, i) => repo.strategyRoles(`s${i}`)));
      const producing = producers.flatMap((roles) => [...roles.values()].filter((r) => r === 'producer'));
      expect(producing.length).toBe(ids.length);
    });

    it('ignores node ids it does not know when attaching', async () => {
      expect((await repo.attachStrategy('s1', ['nope'], 1000)).size).toBe(0);
    });

    it('stores sentinels with their nodes, and canary weights (also on a bare sentinel)', async () => {
      const a = testRecord('a');
      await repo.createNodes([a]);
      await repo.upsertSentinel({
        sentinelId: 's1-sentinel',
        strategyId: 's1',
        createdAt: 5,
        nodeIds: [a.nodeId],
      });
      await repo.setSentinelWeight('s1-sentinel', 0.25, ROOMY);
      expect(await repo.getSentinel('s1-sentinel')).toEqual({
        sentinelId: 's1-sentinel',
        strategyId: 's1',
        createdAt: 5,
        nodeIds: [a.nodeId],
        weight: 0.25,
      });
      await repo.upsertSentinel({
        sentinelId: 's1-sentinel',
        strategyId: 's1',
        createdAt: 6,
        nodeIds: [a.nodeId],
      });
      expect((await repo.getSentinel('s1-sentinel'))?.weight).toBe(0.25);
      expect(await repo.setSentinelWeight('v2', 1, { now: 9, limit: 10 })).toBe('pending');
      expect(await repo.getSentinel('v2')).toEqual({
        sentinelId: 'v2',
        strategyId: '',
        createdAt: 9,
        nodeIds: [],
        weight: 1,
      });
      expect(await repo.getSentinel('missing')).toBeNull();
    });

    it('holds at most `limit` pending weights; a sentinel a diff wrote always takes its weight', async () => {
      await repo.upsertSentinel({ sentinelId: 's1-sentinel', strategyId: 's1', createdAt: 5, nodeIds: [] });
      const bounds = (now: number) => ({ now, limit: 2 });
      expect(await repo.setSentinelWeight('p1', 0.1, bounds(10))).toBe('pending');
      expect(await repo.setSentinelWeight('p2', 0.2, bounds(11))).toBe('pending');
      expect(await repo.setSentinelWeight('p3', 0.3, bounds(12))).toBe('full');
      expect(await repo.getSentinel('p3')).toBeNull();
      // A new weight for a pending version replaces it and restarts its wait.
      expect(await repo.setSentinelWeight('p1', 0.15, bounds(13))).toBe('pending');
      expect(await repo.getSentinel('p1')).toEqual({
        sentinelId: 'p1',
        strategyId: '',
        createdAt: 13,
        nodeIds: [],
        weight: 0.15,
      });
      expect(await repo.setSentinelWeight('s1-sentinel', 0.5, bounds(14))).toBe('stored');
      expect(await repo.getSentinel('s1-sentinel')).toMatchObject({ createdAt: 5, weight: 0.5 });
      expect(await repo.setSentinelWeight('s1-sentinel', 0.6, { now: 15, limit: 0 })).toBe('stored');
      // The diff writing p2's sentinel keeps its weight and frees its place.
      await repo.upsertSentinel({ sentinelId: 'p2', strategyId: 'p', createdAt: 20, nodeIds: [] });
      expect(await repo.getSentinel('p2')).toMatchObject({ strategyId: 'p', createdAt: 20, weight: 0.2 });
      expect(await repo.setSentinelWeight('p3', 0.3, bounds(21))).toBe('pending');
      expect(await repo.setSentinelWeight('p4', 0.4, bounds(22))).toBe('full');
      expect(await repo.setSentinelWeight('p2', 0.25, bounds(23))).toBe('stored');
    });

    it('holds at most `limit` pending weights under concurrent writers', async () => {
      const versions = Array.from({ length: 20 }, (_, i) => `c${i}`);
      const outcomes = await Promise.all(
        versions.map((version) => repo.setSentinelWeight(version, 0.5, { now: 1, limit: 5 })),
      );
      expect(outcomes.filter((o) => o === 'pending').length).toBe(5);
      expect(outcomes.filter((o) => o === 'full').length).toBe(15);
      const stored = await Promise.all(versions.map((version) => repo.getSentinel(version)));
      expect(stored.filter((s) => s !== null).length).toBe(5);
    });

    it('expires the pending weights older than a cutoff, never a sentinel a diff wrote', async () => {
      const a = testRecord('a');
      const roomy = (now: number) => ({ now, limit: 10 });
      await repo.setSentinelWeight('old', 0.1, roomy(100));
      await repo.setSentinelWeight('new', 0.2, roomy(200));
      await repo.setSentinelWeight('claimed', 0.3, roomy(100));
      await repo.createNodes([a], {
        sentinelId: 'claimed',
        strategyId: 'c',
        createdAt: 50,
        nodeIds: [a.nodeId],
      });
      await repo.upsertSentinel({ sentinelId: 'diffed', strategyId: 'd', createdAt: 0, nodeIds: [] });
      await repo.setSentinelWeight('diffed', 0.4, roomy(100));
      expect(await repo.expirePendingWeights(150)).toEqual(['old']);
      expect(await repo.getSentinel('old')).toBeNull();
      expect((await repo.getSentinel('new'))?.weight).toBe(0.2);
      expect(await repo.getSentinel('claimed')).toMatchObject({ strategyId: 'c', weight: 0.3 });
      expect((await repo.getSentinel('diffed'))?.weight).toBe(0.4);
      expect(await repo.expirePendingWeights(150)).toEqual([]);
      // Its place is free again: `new` and `old` fill a limit of 2.
      expect(await repo.setSentinelWeight('old', 0.5, { now: 300, limit: 2 })).toBe('pending');
      expect(await repo.setSentinelWeight('third', 0.5, { now: 300, limit: 2 })).toBe('full');
      expect((await repo.expirePendingWeights(1_000)).sort()).toEqual(['new', 'old']);
    });

    it('stores the sentinel given to createNodes with the nodes, listing old and new nodes', async () => {
      const old = testRecord('old');
      const buffering = testRecord('new', { bufferingSince: 7 });
      await repo.createNodes([old]);
      expect(await repo.setSentinelWeight('s1-sentinel', 0.5, ROOMY)).toBe('pending');
      const sentinel = { sentinelId: 's1-sentinel', strategyId: 's1', createdAt: 7 };
      const nodeIds = [old.nodeId, buffering.nodeId];
      const stored = await repo.createNodes([buffering], { ...sentinel, nodeIds });
      expect(stored.get(buffering.nodeId)).toEqual(buffering);
      expect(await repo.getSentinel('s1-sentinel')).toEqual({ ...sentinel, nodeIds, weight: 0.5 });
      expect((await repo.getBufferingNodes(8)).map((r) => r.nodeId)).toEqual([buffering.nodeId]);
    });

    it('lists nodes stored buffering by cutoff, and clears them', async () => {
      const a = testRecord('a', { bufferingSince: 1000 });
      const b = testRecord('b', { bufferingSince: 5000 });
      await repo.createNodes([a, b, testRecord('c')]);
      expect((await repo.getBufferingNodes(2000)).map((r) => r.nodeId)).toEqual([a.nodeId]);
      expect((await repo.getBufferingNodes(6000)).length).toBe(2);
      await repo.clearBuffering([a.nodeId]);
      expect((await repo.getNodes([a.nodeId])).get(a.nodeId)?.bufferingSince).toBeNull();
      expect((await repo.getBufferingNodes(6000)).map((r) => r.nodeId)).toEqual([b.nodeId]);
    });

    it('lists orphan queues with the time they lost their last user, and drops them', async () => {
      const unused = testRecord('unused', { topic: 't_unused', createdAt: 100 });
      const used = testRecord('used', { topic: 't_used' });
      const released = testRecord('released', { topic: 't_released', kind: 'raw' });
      await repo.createNodes([unused, used, released]);
      await repo.attachStrategy('s1', [used.nodeId, released.nodeId], 1000);
      await repo.attachStrategy('s2', [released.nodeId], 1000);
      await repo.releaseStrategy('s2', 2000);
      await repo.releaseStrategy('s1', 3000);
      await repo.attachStrategy('s3', [used.nodeId], 3500);
      const orphans = (await repo.listOrphanQueues()).sort((x, y) => x.topic.localeCompare(y.topic));
      expect(orphans).toEqual([
        {
          topic: 't_released',
          nodeId: released.nodeId,
          kind: 'raw',
          interval: 60,
          tags: released.tags,
          createdAt: released.createdAt,
          orphanedSince: 3000,
        },
        {
          topic: 't_unused',
          nodeId: unused.nodeId,
          kind: 'indicator',
          interval: 60,
          tags: unused.tags,
          createdAt: 100,
          orphanedSince: 100,
        },
      ]);
      expect(await repo.dropQueue('t_unused')).toBe(true);
      expect(await repo.dropQueue('never_existed')).toBe(false);
      expect(await repo.getNodeByTopic('t_unused')).toBeNull();
      expect((await repo.getNodes([unused.nodeId])).size).toBe(0);
      expect((await repo.listOrphanQueues()).map((o) => o.topic)).toEqual(['t_released']);
    });

    it('drops a queue only while no active strategy produces or consumes its node', async () => {
      const produced = testRecord('produced', { topic: 't_produced' });
      const consumed = testRecord('consumed', { topic: 't_consumed' });
      await repo.createNodes([produced, consumed]);
      await repo.attachStrategy('producer', [produced.nodeId, consumed.nodeId], 1000);
      await repo.attachStrategy('consumer', [consumed.nodeId], 1000);
      await repo.releaseStrategy('producer', 2000);
      expect(await repo.dropQueue('t_produced')).toBe(true);
      expect(await repo.dropQueue('t_consumed')).toBe(false);
      expect((await repo.getNodes([consumed.nodeId])).size).toBe(1);
      await repo.attachStrategy('again', [produced.nodeId], 3000);
      expect((await repo.strategyRoles('again')).size).toBe(0);
      await repo.releaseStrategy('consumer', 4000);
      expect(await repo.dropQueue('t_consumed')).toBe(true);
      expect(await repo.getNodeByTopic('t_consumed')).toBeNull();
    });

    it('stores hostile strings literally (no query injection)', async () => {
      const hostile = 'x\'}) DETACH DELETE n //"; DROP TABLE nodes; --';
      const a = testRecord('a', { tags: [hostile], nodeType: hostile, topic: `t_${hostile}` });
      await repo.createNodes([a, testRecord('b')]);
      expect((await repo.getNodes([a.nodeId])).get(a.nodeId)).toEqual(a);
      expect(await repo.getQueuesByTags({ tags: [hostile], interval: 60, matchMode: 'all' })).toEqual([
        a.topic,
      ]);
      await repo.attachStrategy(hostile, [a.nodeId], 1);
      expect((await repo.strategyRoles(hostile)).get(a.nodeId)).toBe('producer');
      expect(await repo.setSentinelWeight(hostile, 0.5, { now: 1, limit: 1 })).toBe('pending');
      expect(await repo.expirePendingWeights(2)).toEqual([hostile]);
      expect((await repo.getNodes([testRecord('b').nodeId])).size).toBe(1);
    });

    it('keeps producers, roles and orphans as the model does over generated attaches and releases', async () => {
      await checkRolesAgainstModel(options.create, options.modelRuns ?? 100);
    }, 120_000);

    it('never gives a node two producers over generated rounds of concurrent attaches and releases', async () => {
      await checkConcurrentRoles(options.create, options.modelRuns ?? 100);
    }, 120_000);

    it('answers generated tag queries as the model does', async () => {
      await checkTagQueriesAgainstModel(options.create, options.modelRuns ?? 100);
    }, 120_000);

    it('reports its health', async () => {
      expect(await repo.health()).toBe('ok');
    });

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it('keeps everything across a restart', async () => {
        const a = testRecord('a');
        const b = testRecord('b', { bufferingSince: 1200 });
        await repo.createNodes([a, b]);
        await repo.attachStrategy('s1', [a.nodeId, b.nodeId], 1000);
        await repo.attachStrategy('s2', [a.nodeId], 1000);
        await repo.releaseStrategy('s2', 1500);
        await repo.upsertSentinel({
          sentinelId: 's1-sentinel',
          strategyId: 's1',
          createdAt: 1,
          nodeIds: [a.nodeId],
        });
        await repo.setSentinelWeight('s1-sentinel', 0.5, ROOMY);
        await repo.setSentinelWeight('early-sentinel', 0.75, { now: 1400, limit: 10 });
        await repo.clearBuffering([b.nodeId]);
        const c = testRecord('c', { bufferingSince: 1300 });
        await repo.createNodes([c], {
          sentinelId: 's4-sentinel',
          strategyId: 's4',
          createdAt: 1300,
          nodeIds: [c.nodeId],
        });
        const again = await reopen(repo);
        try {
          expect((await again.getNodes([a.nodeId, b.nodeId])).get(b.nodeId)).toEqual({
            ...b,
            bufferingSince: null,
          });
          expect(await again.strategyRoles('s1')).toEqual(
            new Map([
              [a.nodeId, 'producer'],
              [b.nodeId, 'producer'],
            ]),
          );
          expect((await again.strategyRoles('s2')).size).toBe(0);
          expect((await again.getSentinel('s1-sentinel'))?.weight).toBe(0.5);
          expect(await again.getSentinel('early-sentinel')).toMatchObject({ createdAt: 1400, weight: 0.75 });
          expect(await again.expirePendingWeights(1401)).toEqual(['early-sentinel']);
          expect((await again.getSentinel('s4-sentinel'))?.nodeIds).toEqual([c.nodeId]);
          expect((await again.getNodes([c.nodeId])).get(c.nodeId)).toEqual(c);
          expect((await again.attachStrategy('s3', [a.nodeId], 2000)).get(a.nodeId)).toBe('s1');
        } finally {
          if (again !== repo) await again.close();
        }
      });
    }
  });
}
