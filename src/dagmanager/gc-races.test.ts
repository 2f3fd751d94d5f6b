/**
 * GC against diffs running at the same time: a queue is only dropped while no strategy uses its
 * node, and a diff never ends up on a topic GC deletes.
 */
import { describe, expect, it } from 'vitest';
import { chainDag } from './dag.test-kit.js';
import { DiffService } from './diff-service.js';
import { GarbageCollector, type GcRule } from './gc.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';
import type { OrphanQueue, TopicKind } from './node-record.js';

const NOW = 1_700_000_000_000;
const AT_ONCE: GcRule = { ttlMs: 0, graceMs: 0, action: 'archive' };
const POLICY: Partial<Record<TopicKind, GcRule>> = { raw: AT_ONCE, indicator: AT_ONCE };

/** A promise the test opens when it wants: what a slow archive or broker call waits on. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

function world(options: { archive?: (queue: OrphanQueue) => Promise<void> } = {}) {
  const repo = MemoryNodeRepository.open();
  const admin = new MemoryQueueAdmin();
  const diffs = new DiffService({
    repo,
    topics: { ensure: (spec) => admin.createTopic({ ...spec, replicationFactor: 1 }) },
    now: () => NOW,
    // The node-record cache a Neo4j-backed diff keeps (the memory repository gets none by default).
    cacheSize: 1000,
  });
  const gc = new GarbageCollector({
    repo,
    admin,
    policy: POLICY,
    now: () => NOW,
    archive: {
      archive: async (queue) => {
        await options.archive?.(queue);
        return `archive://${queue.topic}`;
      },
    },
    exclusive: (nodeIds, section) => diffs.collecting(nodeIds, section),
  });
  return { repo, admin, diffs, gc };
}

/** Submits the DAG as `strategyId`, then releases it: every node is an orphan. */
async function orphaned(w: ReturnType<typeof world>, dag: object): Promise<ReadonlyMap<string, string>> {
  const outcome = await w.diffs.diff({ strategyId: 'first', dagJson: dag });
  await w.repo.releaseStrategy('first', NOW);
  return outcome.queueMap;
}

describe('GC with diffs running at the same time', () => {
  it('keeps the queues of orphans a strategy picks up again while GC archives them', async () => {
    const archiving = gate();
    const w = world({ archive: () => archiving.wait });
    const dag = chainDag(3, 'gc-race-');
    const topics = await orphaned(w, dag);
    const collected = w.gc.collect();
    await flush();
    const again = await w.diffs.diff({ strategyId: 'second', dagJson: dag });
    expect(again.queueMap).toEqual(topics);
    archiving.open();
    expect(await collected).toEqual([]);
    expect((await w.admin.listTopics()).sort()).toEqual([...topics.values()].sort());
    expect((await w.repo.getNodes([...topics.keys()])).size).toBe(3);
  });

  it('makes a diff that arrives while GC deletes its queues wait, then gives it fresh ones', async () => {
    const deleting = gate();
    const w = world();
    const deleteTopic = w.admin.deleteTopic.bind(w.admin);
    w.admin.deleteTopic = async (name) => {
      await deleting.wait;
      return deleteTopic(name);
    };
    const dag = chainDag(3, 'gc-wait-');
    const topics = await orphaned(w, dag);
    const collected = w.gc.collect();
    await flush();
    let answered = false;
    const again = w.diffs.diff({ strategyId: 'second', dagJson: dag }).finally(() => (answered = true));
    await flush();
    expect(answered).toBe(false);
    deleting.open();
    expect((await collected).map((q) => q.topic).sort()).toEqual([...topics.values()].sort());
    const outcome = await again;
    expect(outcome.newNodes).toHaveLength(3);
    expect(outcome.topicMap.size).toBe(3);
    const live = new Set(await w.admin.listTopics());
    for (const topic of outcome.queueMap.values()) expect(live.has(topic)).toBe(true);
    expect((await w.repo.getNodes([...outcome.queueMap.keys()])).size).toBe(3);
  });

  it('does not drop a queue whose node a strategy uses again by the time GC gets to it', async () => {
    const w = world();
    const dag = chainDag(2, 'gc-reused-');
    const topics = await orphaned(w, dag);
    const orphans = await w.repo.listOrphanQueues();
    await w.diffs.diff({ strategyId: 'second', dagJson: dag });
    for (const queue of orphans) expect(await w.repo.dropQueue(queue.topic)).toBe(false);
    expect((await w.repo.getNodes([...topics.keys()])).size).toBe(2);
  });
});
