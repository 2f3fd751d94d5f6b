import { describe, expect, it } from 'vitest';
import { toChunks } from './diff-chunks.js';
import type { DiffOutcome } from './diff-types.js';

function outcome(nodes: number, produced = (i: number) => i % 2 === 0): DiffOutcome {
  const ids = Array.from({ length: nodes }, (_, i) => `id${String(i).padStart(4, '0')}`);
  return {
    strategyId: 's',
    sentinelId: 's-sentinel',
    queueMap: new Map(ids.map((id) => [id, `topic_${id}`])),
    topicMap: new Map(ids.filter((_, i) => produced(i)).map((id) => [id, `topic_${id}`])),
    newNodes: [],
    bufferNodes: [
      {
        nodeId: 'id0003',
        nodeType: 'T',
        codeHash: 'c',
        schemaHash: 's',
        interval: 60,
        period: 5,
        tags: ['x'],
        lag: 5,
      },
    ],
    sentinelWritten: true,
  };
}

describe('toChunks', () => {
  it('splits 250 nodes into 3 chunks of at most 100, each node in exactly one chunk, in order', () => {
    const chunks = toChunks(outcome(250));
    expect(chunks.map((c) => Object.keys(c.queueMap).length)).toEqual([100, 100, 50]);
    expect(chunks.map((c) => [c.chunkId, c.totalChunks])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const merged = Object.assign({}, ...chunks.map((c) => c.queueMap)) as Record<string, string>;
    expect(Object.keys(merged)).toEqual([...outcome(250).queueMap.keys()]);
    expect(chunks.flatMap((c) => Object.keys(c.topicMap))).toHaveLength(125);
    expect(chunks[0]!.bufferNodes.map((b) => b.nodeId)).toEqual(['id0003']);
    expect(chunks[1]!.bufferNodes).toEqual([]);
  });

  it('gives one empty chunk for an empty DAG', () => {
    const chunks = toChunks({ ...outcome(0), bufferNodes: [] });
    expect(chunks).toEqual([
      { sentinelId: 's-sentinel', chunkId: 1, totalChunks: 1, queueMap: {}, topicMap: {}, bufferNodes: [] },
    ]);
  });

  it('keeps chunks under the byte limit', () => {
    const chunks = toChunks(outcome(100), { maxNodes: 100, maxBytes: 500 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(JSON.stringify(chunk).length).toBeLessThan(1000);
  });
});
