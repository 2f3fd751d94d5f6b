import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { chainDag, wireNode } from '../dagmanager/dag.test-kit.js';
import { DagManager } from '../dagmanager/dag-manager.js';
import { MemoryNodeRepository } from '../dagmanager/memory-node-repository.js';
import { MemoryQueueAdmin } from '../dagmanager/memory-queue-admin.js';
import { EmbeddedDagClient } from './embedded-dag-client.js';

describe('EmbeddedDagClient', () => {
  let manager: DagManager;
  let client: EmbeddedDagClient;

  beforeEach(() => {
    const admin = new MemoryQueueAdmin();
    manager = new DagManager({
      repo: MemoryNodeRepository.open(),
      admin,
      topics: { ensure: (spec) => admin.createTopic(spec) },
    });
    client = new EmbeddedDagClient(manager);
  });

  it('returns a diff as plain records: every node in queueMap, the produced ones in topicMap', async () => {
    const dag = chainDag(3);
    const first = await client.diff('s1', JSON.stringify(dag));
    const ids = dag.nodes.map((n) => n.node_id).sort();
    expect(first.sentinelId).toBe('s1-sentinel');
    expect(Object.keys(first.queueMap).sort()).toEqual(ids);
    expect(first.topicMap).toEqual(first.queueMap);

    const extended = { nodes: [...dag.nodes, wireNode({ name: 'extra', inputs: [dag.nodes[2]!] })] };
    const second = await client.diff('s2', JSON.stringify(extended));
    expect(Object.keys(second.queueMap)).toHaveLength(4);
    expect(Object.keys(second.topicMap)).toEqual([extended.nodes[3]!.node_id]);
    expect(second.queueMap[ids[0]!]).toBe(first.queueMap[ids[0]!]);
  });

  it('passes the DAG Manager’s errors through with their codes', async () => {
    const error: unknown = await client.diff('s1', 'not json').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.InvalidDag);
  });

  it('answers tag queries and releases a stopped strategy’s nodes', async () => {
    const dag = chainDag(3);
    const { queueMap } = await client.diff('s1', JSON.stringify(dag));
    expect(await client.getQueues(['price'], 60, 'any')).toEqual([queueMap[dag.nodes[0]!.node_id]]);
    expect(await client.getQueues(['price', 'volume'], 60, 'all')).toEqual([]);
    expect((await client.cleanup('s1')).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(await client.cleanup('s1')).toEqual([]);
  });

  it('is healthy while the graph store is, and never throws', async () => {
    expect(await client.healthy()).toBe(true);
    vi.spyOn(manager.repo, 'health').mockResolvedValueOnce('error');
    expect(await client.healthy()).toBe(false);
    vi.spyOn(manager, 'status').mockRejectedValueOnce(new Error('boom'));
    expect(await client.healthy()).toBe(false);
  });

  it('leaves the DAG Manager open on close (its owner closes it)', async () => {
    const close = vi.spyOn(manager, 'close');
    await client.close();
    expect(close).not.toHaveBeenCalled();
    expect(await client.healthy()).toBe(true);
  });
});
